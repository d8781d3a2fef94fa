-- The two foreign keys of record_outcomes were checked row by row: one trigger call per record
-- and per key (about two million calls for a million affiliates, a sixth of a career run).
-- They are replaced by one set-based check that every run performs in its own transaction
-- before it commits (src/ledger/outcomeWriter.ts, checkOutcomes): every outcome belongs to the
-- run and every emitted one names a file of that run. Runs are never deleted.
ALTER TABLE maillon.record_outcomes DROP CONSTRAINT IF EXISTS record_outcomes_run_id_file_key_fkey;
ALTER TABLE maillon.record_outcomes DROP CONSTRAINT IF EXISTS record_outcomes_run_id_fkey;
