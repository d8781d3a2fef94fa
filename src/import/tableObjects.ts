import type { PoolClient } from '../db/database.js';
import { CONTRACT } from './contract.js';

/**
 * What a dossier table carries beside its columns, CHECK constraints, keys and indexes
 * (dossierSchema.ts), mostly added by a database administrator, that a bulk import makes again on
 * the table it swaps in: after it the table behaves as after a row-by-row import, which keeps the
 * table itself. The change counter's trigger is not among them (the swap attaches it again).
 */
export interface TableObjects {
  /**
   * Actions of an `ALTER TABLE`, run on the new table before its load: its storage parameters
   * (`SET ("fillfactor"='70')`), its columns' statistics targets and options (`n_distinct`), which
   * the ANALYZE after the load then follows.
   */
  settings: string[];
  /**
   * Triggers: name, `pg_get_triggerdef` and `tgenabled` (O fires, D disabled, R replica only,
   * A always). Made before the load, so that a row trigger fires on every row of the COPY (and
   * refuses there what it refuses in a row-by-row import).
   */
  triggers: { name: string; def: string; enabled: string }[];
  /**
   * Statements for the swapped-in table, under its own name and once its keys and indexes have
   * theirs: the privileges granted to other roles (table and columns, grant options kept), row
   * level security and its policies, the comments, then the owner.
   */
  afterSwap: string[];
  /** The COMMENT statements among afterSwap: a row-by-row load runs them again on the keys and indexes it makes again. */
  comments: string[];
}

/** The objects of every dossier table of the contract, by table name. */
export async function readTableObjects(c: PoolClient): Promise<Map<string, TableObjects>> {
  const tables = CONTRACT.map((t) => t.table);
  const settings = await c.query<{ tbl: string; sql: string }>(SETTINGS_SQL, [tables]);
  const triggers = await c.query<{ tbl: string; name: string; def: string; enabled: string }>(
    `SELECT cl.relname AS tbl, t.tgname AS name, pg_get_triggerdef(t.oid) AS def, t.tgenabled::text AS enabled
     FROM pg_trigger t JOIN pg_class cl ON cl.oid = t.tgrelid
     WHERE cl.relnamespace = 'dossier'::regnamespace AND cl.relname = ANY($1) AND NOT t.tgisinternal
       AND t.tgfoid IS DISTINCT FROM to_regprocedure('dossier.count_change()')
     ORDER BY t.tgname`,
    [tables],
  );
  const after = await c.query<{ tbl: string; step: number; sql: string }>(AFTER_SWAP_SQL, [tables]);
  return new Map(
    tables.map((t) => [
      t,
      {
        settings: settings.rows.filter((r) => r.tbl === t).map((r) => r.sql),
        triggers: triggers.rows.filter((r) => r.tbl === t).map(({ name, def, enabled }) => ({ name, def, enabled })),
        afterSwap: after.rows.filter((r) => r.tbl === t).map((r) => r.sql),
        comments: after.rows.filter((r) => r.tbl === t && r.step === COMMENT_STEP).map((r) => r.sql),
      },
    ]),
  );
}

/** SQL of the options of a catalog column (`{name=value,…}`) as `SET (…)` takes them. */
const optionList = (column: string, names = 'IS NOT NULL'): string =>
  `(SELECT string_agg(format('%I=%L', split_part(o, '=', 1), substr(o, strpos(o, '=') + 1)), ', ') FROM unnest(${column}) o WHERE split_part(o, '=', 1) ${names})`;

/** The column options of PostgreSQL's ANALYZE (others, a server's own, are left alone). */
const COLUMN_OPTIONS = `IN ('n_distinct', 'n_distinct_inherited')`;

/** The statements of TableObjects.settings, with the table they are for. */
const SETTINGS_SQL = `
SELECT cl.relname AS tbl, format('SET (%s)', ${optionList('cl.reloptions')}) AS sql
FROM pg_class cl WHERE cl.relnamespace = 'dossier'::regnamespace AND cl.relname = ANY($1) AND cl.reloptions IS NOT NULL
UNION ALL
SELECT cl.relname, format('ALTER COLUMN %I SET STATISTICS %s', a.attname, a.attstattarget)
FROM pg_class cl JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE cl.relnamespace = 'dossier'::regnamespace AND cl.relname = ANY($1) AND a.attstattarget >= 0
UNION ALL
SELECT cl.relname, format('ALTER COLUMN %I SET (%s)', a.attname, ${optionList('a.attoptions', COLUMN_OPTIONS)})
FROM pg_class cl JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE cl.relnamespace = 'dossier'::regnamespace AND cl.relname = ANY($1) AND ${optionList('a.attoptions', COLUMN_OPTIONS)} IS NOT NULL`;

const COMMENT_STEP = 4;

/** The statements of TableObjects.afterSwap, in the order they must run (`step`), with the table they are for. */
const AFTER_SWAP_SQL = `
WITH tbl AS (
  SELECT oid, relname, relowner, relacl, relrowsecurity, relforcerowsecurity FROM pg_class
  WHERE relnamespace = 'dossier'::regnamespace AND relkind = 'r' AND relname = ANY($1)
), grantee AS (
  SELECT oid, quote_ident(rolname) AS name FROM pg_roles UNION ALL SELECT 0, 'PUBLIC'
), stmt AS (
  SELECT t.relname AS tbl, 1 AS step, format('GRANT %s ON dossier.%I TO %s%s', a.privilege_type, t.relname, g.name, CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' END) AS sql
  FROM tbl t CROSS JOIN LATERAL aclexplode(t.relacl) a JOIN grantee g ON g.oid = a.grantee WHERE a.grantee <> t.relowner
  UNION ALL
  SELECT t.relname, 1, format('GRANT %s (%I) ON dossier.%I TO %s%s', a.privilege_type, att.attname, t.relname, g.name, CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' END)
  FROM tbl t JOIN pg_attribute att ON att.attrelid = t.oid AND att.attnum > 0 AND NOT att.attisdropped
  CROSS JOIN LATERAL aclexplode(att.attacl) a JOIN grantee g ON g.oid = a.grantee WHERE a.grantee <> t.relowner
  UNION ALL
  SELECT relname, 2, format('ALTER TABLE dossier.%I ENABLE ROW LEVEL SECURITY', relname) FROM tbl WHERE relrowsecurity
  UNION ALL
  SELECT relname, 2, format('ALTER TABLE dossier.%I FORCE ROW LEVEL SECURITY', relname) FROM tbl WHERE relforcerowsecurity
  UNION ALL
  SELECT p.tablename, 3, format('CREATE POLICY %I ON dossier.%I AS %s FOR %s TO %s%s%s', p.policyname, p.tablename, p.permissive, p.cmd,
    (SELECT string_agg(CASE WHEN r = 'public' THEN 'PUBLIC' ELSE quote_ident(r) END, ', ') FROM unnest(p.roles) r),
    ' USING (' || p.qual || ')', ' WITH CHECK (' || p.with_check || ')')
  FROM pg_policies p WHERE p.schemaname = 'dossier' AND p.tablename = ANY($1)
  UNION ALL
  SELECT t.relname, 4, CASE WHEN d.objsubid = 0 THEN format('COMMENT ON TABLE dossier.%I IS %L', t.relname, d.description)
    ELSE format('COMMENT ON COLUMN dossier.%I.%I IS %L', t.relname, (SELECT attname FROM pg_attribute WHERE attrelid = t.oid AND attnum = d.objsubid), d.description) END
  FROM tbl t JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = t.oid
  UNION ALL
  SELECT t.relname, 4, format('COMMENT ON CONSTRAINT %I ON dossier.%I IS %L', k.conname, t.relname, d.description)
  FROM tbl t JOIN pg_constraint k ON k.conrelid = t.oid AND k.contype IN ('c', 'p', 'u', 'f', 'x') JOIN pg_description d ON d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid
  UNION ALL
  SELECT t.relname, 4, format('COMMENT ON INDEX dossier.%I IS %L', i.relname, d.description)
  FROM tbl t JOIN pg_index x ON x.indrelid = t.oid JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = i.oid
  UNION ALL
  SELECT t.relname, 4, format('COMMENT ON TRIGGER %I ON dossier.%I IS %L', tg.tgname, t.relname, d.description)
  FROM tbl t JOIN pg_trigger tg ON tg.tgrelid = t.oid AND NOT tg.tgisinternal
    AND tg.tgfoid IS DISTINCT FROM to_regprocedure('dossier.count_change()') JOIN pg_description d ON d.classoid = 'pg_trigger'::regclass AND d.objoid = tg.oid
  UNION ALL
  SELECT t.relname, 4, format('COMMENT ON POLICY %I ON dossier.%I IS %L', pol.polname, t.relname, d.description)
  FROM tbl t JOIN pg_policy pol ON pol.polrelid = t.oid JOIN pg_description d ON d.classoid = 'pg_policy'::regclass AND d.objoid = pol.oid
  UNION ALL
  -- Last: the grants above are then the owner's, as they were.
  SELECT relname, 5, format('ALTER TABLE dossier.%I OWNER TO %I', relname, pg_get_userbyid(relowner)) FROM tbl WHERE relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
)
SELECT tbl, step, sql FROM stmt ORDER BY tbl, step, sql`;

/**
 * Why the bulk path cannot replace the dossier tables without changing more than them, one
 * sentence per object; empty when it can. Another object that depends on a table (a view, a
 * materialized view, another table's foreign key, a function of its row type) would have to be
 * dropped with it; a publication's subscribers would not see the swap. The row-by-row path keeps
 * the tables (it empties and loads them), so it keeps both.
 */
export async function findSwapObstacles(c: PoolClient): Promise<string[]> {
  const tables = CONTRACT.map((t) => t.table);
  const res = await c.query<{ what: string }>(
    `SELECT DISTINCT o.type || ' ' || o.identity || ' depends on dossier.' || t.relname || ': a bulk import replaces the table and would drop it' AS what
     FROM pg_class t JOIN pg_depend dep
       ON (dep.refclassid = 'pg_class'::regclass AND dep.refobjid = t.oid) OR (dep.refclassid = 'pg_type'::regclass AND dep.refobjid = t.reltype)
     -- A view's rule is named as its view.
     CROSS JOIN LATERAL pg_identify_object(CASE WHEN dep.classid = 'pg_rewrite'::regclass THEN 'pg_class'::regclass ELSE dep.classid END,
                                           CASE WHEN dep.classid = 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = dep.objid) ELSE dep.objid END, 0) o
     WHERE t.relnamespace = 'dossier'::regnamespace AND t.relname = ANY($1) AND dep.deptype = 'n'
       -- The table's own constraints, triggers, policies, defaults, statistics and indexes go with it.
       AND CASE dep.classid
             WHEN 'pg_constraint'::regclass THEN (SELECT conrelid FROM pg_constraint WHERE oid = dep.objid)
             WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = dep.objid)
             WHEN 'pg_policy'::regclass THEN (SELECT polrelid FROM pg_policy WHERE oid = dep.objid)
             WHEN 'pg_attrdef'::regclass THEN (SELECT adrelid FROM pg_attrdef WHERE oid = dep.objid)
             WHEN 'pg_statistic_ext'::regclass THEN (SELECT stxrelid FROM pg_statistic_ext WHERE oid = dep.objid)
             WHEN 'pg_class'::regclass THEN (SELECT indrelid FROM pg_index WHERE indexrelid = dep.objid)
           END IS DISTINCT FROM t.oid
       -- The contract's references between the tables are made again on the new ones.
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k JOIN pg_class kt ON kt.oid = k.conrelid
                       WHERE dep.classid = 'pg_constraint'::regclass AND k.oid = dep.objid AND k.contype = 'f'
                         AND kt.relnamespace = 'dossier'::regnamespace AND kt.relname = ANY($1))
     UNION
     SELECT format('dossier.%s is in publication %s: its subscribers would not see a bulk import, which replaces the table', tablename, pubname)
     FROM pg_publication_tables WHERE schemaname = 'dossier' AND tablename = ANY($1)
     ORDER BY 1`,
    [tables],
  );
  return res.rows.map((r) => r.what);
}
