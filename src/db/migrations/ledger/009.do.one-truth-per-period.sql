-- One truth per period (issue 20): what each receiver holds is stated by the ledger itself.

-- 1. The version a submission is for its receiver. 'duplicate' exists only for the ledgers written
--    before maillon refused a second `run` of a period: every live original after the first of
--    its flow, period, environment and receiver. The period view shows them as needing attention.
ALTER TABLE maillon.submissions ADD COLUMN kind text;
UPDATE maillon.submissions s
SET kind = CASE r.kind WHEN 'correction' THEN 'correction' WHEN 'full-replacement' THEN 'replacement' ELSE 'original' END
FROM maillon.runs r WHERE r.run_id = s.run_id;
UPDATE maillon.submissions s SET kind = 'duplicate'
FROM (
  SELECT submission_id, row_number() OVER (PARTITION BY flow, period, environment, receiver ORDER BY submission_id) AS n
  FROM maillon.submissions
  WHERE kind = 'original' AND state IN ('written', 'sent', 'received', 'accepted', 'accepted_with_anomalies')
) d
WHERE d.submission_id = s.submission_id AND d.n > 1;
ALTER TABLE maillon.submissions
  ALTER COLUMN kind SET NOT NULL,
  ADD CONSTRAINT submissions_kind_check CHECK (kind IN ('original', 'correction', 'replacement', 'duplicate'));

-- 2. At most one live original per flow, period, environment and receiver: a second `run` of a
--    period cannot be recorded, whatever the order of calls or the number of processes.
CREATE UNIQUE INDEX submissions_one_live_original ON maillon.submissions (flow, period, environment, receiver)
  WHERE kind = 'original' AND state IN ('written', 'sent', 'received', 'accepted', 'accepted_with_anomalies');

-- 3. The states a submission may move through; final states (accepted, accepted_with_anomalies,
--    rejected, cancelled) are never left. The receiver can answer only once the GO was started.
--    New submissions start written and are never duplicates.
CREATE FUNCTION maillon.submission_transition_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.state <> 'written' OR NEW.kind = 'duplicate' THEN
      RAISE EXCEPTION 'a new submission is written and an original, correction or replacement, not % %', NEW.state, NEW.kind
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.state = OLD.state THEN
    RETURN NEW;
  END IF;
  IF NOT (
       (OLD.state = 'written' AND NEW.state IN ('sent', 'cancelled'))
    OR (OLD.state = 'written' AND NEW.state IN ('received', 'accepted', 'accepted_with_anomalies', 'rejected') AND OLD.go_started_at IS NOT NULL)
    OR (OLD.state = 'sent' AND NEW.state IN ('cancelled', 'received', 'accepted', 'accepted_with_anomalies', 'rejected'))
    OR (OLD.state = 'received' AND NEW.state IN ('accepted', 'accepted_with_anomalies', 'rejected'))
  ) THEN
    RAISE EXCEPTION 'submission % cannot go from % to %', OLD.submission_id, OLD.state, NEW.state
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.state = 'sent' AND NEW.go_started_at IS NULL THEN
    RAISE EXCEPTION 'submission % cannot be sent without its GO being recorded as started', OLD.submission_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER submissions_transition BEFORE INSERT OR UPDATE OF state ON maillon.submissions
  FOR EACH ROW EXECUTE FUNCTION maillon.submission_transition_check();

-- 4. The scheduler's failures per period: retried with growing delays, then given up until an
--    operator runs the period or the flow's schedule fires again. A success removes the row.
CREATE TABLE maillon.period_retries (
  flow            text NOT NULL,
  period          text NOT NULL,
  environment     char(1) NOT NULL CHECK (environment IN ('R', 'T', 'S')),
  failures        integer NOT NULL CHECK (failures > 0),
  last_failed_at  timestamptz NOT NULL,
  last_error      text NOT NULL,
  next_attempt_at timestamptz,
  given_up_at     timestamptz,
  PRIMARY KEY (flow, period, environment),
  CHECK ((given_up_at IS NULL) <> (next_attempt_at IS NULL))
);

-- 5. Runs still marked running are few; their liveness is their session's advisory lock.
CREATE INDEX runs_running ON maillon.runs (run_id) WHERE state = 'running';
