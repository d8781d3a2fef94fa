-- Delivery over SFTP: submission states and every transfer attempt.
ALTER TABLE maillon.submissions DROP CONSTRAINT submissions_state_check;
ALTER TABLE maillon.submissions ADD CONSTRAINT submissions_state_check
  CHECK (state IN ('written', 'sent', 'cancelled', 'received', 'rejected', 'accepted', 'accepted_with_anomalies'));
ALTER TABLE maillon.submissions ADD COLUMN sent_at timestamptz;
-- Set (and committed) just before the GO file is written: after a crash, a submission whose
-- files are gone from the server with go_started_at set was consumed by the receiver.
ALTER TABLE maillon.submissions ADD COLUMN go_started_at timestamptz;

CREATE TABLE maillon.transfer_attempts (
  attempt_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  submission_id bigint NOT NULL REFERENCES maillon.submissions,
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz,
  outcome       text CHECK (outcome IN ('sent', 'failed')),
  server        text NOT NULL,
  host_key      text,
  detail        jsonb,
  error         text
);
CREATE INDEX transfer_attempts_submission ON maillon.transfer_attempts (submission_id);
