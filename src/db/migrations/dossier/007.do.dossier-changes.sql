-- A counter of the dossier's changes. A rerun reads it before its extraction and again once its
-- plan is confirmed: the same value means the plan it holds is the one a new extraction would give,
-- and it is sent as it was shown; another value, and the plan is computed again and refused when
-- it differs (exit 14). See docs/decisions/0021-rerun-kept-plan.md.
CREATE TABLE dossier.changes (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version  bigint NOT NULL
);
INSERT INTO dossier.changes (version) VALUES (0);

CREATE FUNCTION dossier.count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE dossier.changes SET version = version + 1;
  RETURN NULL;
END
$$;

-- Attaches the counter to every dossier table (once per statement: an import's COPY or INSERT
-- costs one update). A bulk import swaps in new tables, which come without triggers: it calls this
-- again in the transaction of the swap, and counts the swap itself, which no trigger sees.
CREATE FUNCTION dossier.watch_changes() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  t text;
BEGIN
  FOR t IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'dossier' AND c.relkind = 'r' AND c.relname <> 'changes' AND c.relname NOT LIKE '%\_\_new'
  LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS count_change ON dossier.%I', t);
    EXECUTE format('CREATE TRIGGER count_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON dossier.%I FOR EACH STATEMENT EXECUTE FUNCTION dossier.count_change()', t);
  END LOOP;
END
$$;

SELECT dossier.watch_changes();
