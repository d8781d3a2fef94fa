-- Reruns with corrections: a run may be a new version of a period already sent.
ALTER TABLE maillon.runs
  ADD COLUMN kind text NOT NULL DEFAULT 'original' CHECK (kind IN ('original', 'correction', 'full-replacement')),
  ADD COLUMN previous_run_id bigint REFERENCES maillon.runs,
  ADD COLUMN reason text,
  ADD COLUMN unchanged integer,
  ADD COLUMN cancelled integer;

-- 0 original, 1 cancellation, 2 replacement; 'unchanged': extracted, identical to what was sent, not sent again.
ALTER TABLE maillon.record_outcomes ADD COLUMN status smallint NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2));
ALTER TABLE maillon.record_outcomes DROP CONSTRAINT record_outcomes_outcome_check;
ALTER TABLE maillon.record_outcomes ADD CONSTRAINT record_outcomes_outcome_check CHECK (outcome IN ('emitted', 'quarantined', 'unchanged'));
