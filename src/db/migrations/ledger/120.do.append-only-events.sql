-- The event chain is append-only (maillon only ever inserts events): an UPDATE, DELETE or
-- TRUNCATE of maillon.events is refused, so a mistaken statement cannot remove the last events
-- or rewrite the chain, which verify-ledger could not tell from a shorter history.
CREATE FUNCTION maillon.events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'maillon.events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'The ledger''s events are its tamper-evident history; they are never changed or removed. Correct a state with maillon''s own commands, which record a new event.';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON maillon.events
  FOR EACH STATEMENT EXECUTE FUNCTION maillon.events_append_only();

-- Each event has one successor at most: two appends that read the same last event (a fork)
-- cannot both commit. A ledger that already forked is named instead of failing on the index.
DO $$
DECLARE
  fork bigint;
BEGIN
  SELECT max(event_id) INTO fork FROM (
    SELECT event_id, count(*) OVER (PARTITION BY prev_hash) AS n FROM maillon.events
  ) e WHERE n > 1;
  IF fork IS NOT NULL THEN
    RAISE EXCEPTION 'the ledger''s event chain forks (event #% chains to the same event as another); run maillon verify-ledger and compare the ledger with a backup before migrating', fork;
  END IF;
END
$$;
ALTER TABLE maillon.events ADD CONSTRAINT events_one_successor UNIQUE (prev_hash);
