-- A reply that was read but not believed is a 'conflict': its environments disagree, it repeats or
-- contradicts a reply already applied, or its submission is final or was never sent. It changes
-- nothing; the report lists it with its reason.
ALTER TABLE maillon.replies DROP CONSTRAINT replies_state_check;
ALTER TABLE maillon.replies ADD CONSTRAINT replies_state_check CHECK (state IN ('processed', 'set_aside', 'conflict'));

-- A download that failed (connection lost, timeout) is set aside for now and tried again by the
-- next passes; attempts counts the failures, up to three, after which it stays set aside.
ALTER TABLE maillon.replies ADD COLUMN attempts integer CHECK (attempts > 0);
ALTER TABLE maillon.replies ADD CONSTRAINT replies_attempts_set_aside CHECK (attempts IS NULL OR state = 'set_aside');

-- The replies about a file: for the rules (what was already applied) and the report.
CREATE INDEX replies_file_name ON maillon.replies (file_name);

-- A NOTI's anomalies are stored by one INSERT … SELECT (src/ack/anomalyStage.ts) with the id of the
-- reply inserted just before in the same transaction and the id of the file read under its
-- submission's lock. The two foreign keys checked that row by row: one trigger call per anomaly
-- and per key, a third of the time of applying a NOTI of many anomalies. Replies and files are
-- never deleted once an anomaly names them.
ALTER TABLE maillon.record_anomalies DROP CONSTRAINT IF EXISTS record_anomalies_reply_id_fkey;
ALTER TABLE maillon.record_anomalies DROP CONSTRAINT IF EXISTS record_anomalies_file_id_fkey;
