import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runStatement } from '../../src/db/database.js';
import { type ContractBreak, ImportError } from '../../src/errors/errors.js';
import { BulkPathRefused, bulkImport } from '../../src/import/bulkImport.js';
import { importFolder } from '../../src/import/importFolder.js';
import { dossierFiles, folderWriter, setField } from '../helpers/dossierFolder.js';
import { ROOT } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/**
 * A bulk import swaps new tables in for the dossier tables. A database administrator's triggers,
 * exclusion constraints, column grants, grant options, comments, row level security and policies,
 * storage parameters and the table's owner were not made again on the new tables: after a bulk
 * import an audit trigger had vanished, a BI role lost its SELECT on a column, and a row a
 * trigger refuses was imported by the bulk path but refused by the row-by-row one. A view, or a
 * publication, was dropped with the table or stopped the swap after the whole load.
 */
const FULL = path.join(ROOT, 'fixtures/dossier-2024');

/** What a user of the dossier tables sees of them beside their rows, as one text (no oids, no names chosen by PostgreSQL). */
const CATALOG_SQL = `
SELECT 'table ' || c.relname || ' owner=' || pg_get_userbyid(c.relowner) || ' rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity
       || ' options=' || coalesce(array_to_string(c.reloptions, ','), '') || ' acl=' || coalesce(c.relacl::text, '') || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '') AS line
FROM pg_class c WHERE c.relnamespace = 'dossier'::regnamespace AND c.relkind = 'r'
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' statistics=' || a.attstattarget || ' options=' || coalesce((SELECT string_agg(o, ',') FROM unnest(a.attoptions) o WHERE o LIKE 'n_distinct%'), '') || ' acl=' || coalesce(a.attacl::text, '') || ' comment=' || coalesce(col_description(c.oid, a.attnum), '')
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 WHERE c.relnamespace = 'dossier'::regnamespace AND c.relkind = 'r'
UNION ALL
SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid) || ' comment=' || coalesce(obj_description(k.oid, 'pg_constraint'), '')
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE c.relnamespace = 'dossier'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.oid) || ' comment=' || coalesce(obj_description(i.oid, 'pg_class'), '')
FROM pg_class i WHERE i.relnamespace = 'dossier'::regnamespace AND i.relkind = 'i'
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text || ' comment=' || coalesce(obj_description(t.oid, 'pg_trigger'), '')
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'dossier'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'policy ' || p.tablename || '.' || p.policyname || ' ' || p.permissive || ' ' || p.cmd || ' ' || p.roles::text || ' ' || coalesce(p.qual, '') || ' ' || coalesce(p.with_check, '')
FROM pg_policies p WHERE p.schemaname = 'dossier'
ORDER BY 1`;

describe("import: an administrator's objects on the dossier tables", () => {
  let db: TestDatabase;
  let dir: string;
  let writeFolder: ReturnType<typeof folderWriter>;
  const reader = `maillon_bi_${process.pid}`;
  const owner = `maillon_owner_${process.pid}`;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-objects-'));
    writeFolder = folderWriter(dir);
    await db.pool.query(`CREATE ROLE ${reader} NOLOGIN`);
    await db.pool.query(`CREATE ROLE ${owner} NOLOGIN`);
    await db.pool.query(`GRANT CREATE, USAGE ON SCHEMA dossier TO ${owner}`);
    const first = await importFolder(db.pool, FULL);
    expect(first.bulkRefused).toBeNull();
  });
  afterAll(async () => {
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
    // Roles are the cluster's: dropped once the database that refers to them is gone.
    await runStatement(inject('adminUrl'), `DROP ROLE IF EXISTS ${reader}, ${owner}`);
  });

  async function catalog(): Promise<string[]> {
    return (await db.pool.query<{ line: string }>(CATALOG_SQL)).rows.map((r) => r.line);
  }

  it('keeps triggers, an exclusion constraint, a reference to another table, grants, comments, row level security, policies, storage parameters, column statistics settings and the owner through a bulk import, as the row-by-row path does', async () => {
    await db.pool.query(`
      CREATE TABLE public.audit (id text);
      CREATE FUNCTION public.audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO public.audit VALUES (NEW.affiliate_id); RETURN NEW; END $$;
      CREATE TRIGGER tr_audit AFTER INSERT ON dossier.affiliates FOR EACH ROW EXECUTE FUNCTION public.audit_insert();
      CREATE TRIGGER tr_audit_off AFTER INSERT ON dossier.payments FOR EACH ROW EXECUTE FUNCTION public.audit_insert();
      ALTER TABLE dossier.payments DISABLE TRIGGER tr_audit_off;
      COMMENT ON TRIGGER tr_audit ON dossier.affiliates IS 'who loaded what';
      ALTER TABLE dossier.affiliates ADD CONSTRAINT ex_inss EXCLUDE USING btree (inss WITH =);
      COMMENT ON CONSTRAINT ex_inss ON dossier.affiliates IS 'one affiliate per INSS';
      GRANT SELECT ON dossier.contributions TO ${reader} WITH GRANT OPTION;
      GRANT SELECT (affiliate_id, last_name) ON dossier.affiliates TO ${reader};
      COMMENT ON TABLE dossier.affiliates IS 'the fund''s affiliates';
      COMMENT ON COLUMN dossier.affiliates.inss IS 'national number';
      ALTER TABLE dossier.allowances ENABLE ROW LEVEL SECURITY;
      ALTER TABLE dossier.allowances FORCE ROW LEVEL SECURITY;
      CREATE POLICY bi_reads ON dossier.allowances FOR SELECT TO ${reader} USING (amount_cents > 0);
      CREATE POLICY everyone ON dossier.allowances USING (true) WITH CHECK (true);
      ALTER TABLE dossier.companies SET (fillfactor = 70, autovacuum_enabled = false);
      ALTER TABLE dossier.companies OWNER TO ${owner};
      ALTER TABLE dossier.contributions ALTER COLUMN affiliate_id SET STATISTICS 500, ALTER COLUMN affiliate_id SET (n_distinct = -0.1);
      CREATE TABLE public.languages (code text PRIMARY KEY);
      INSERT INTO public.languages VALUES ('fr'), ('nl'), ('de');
      ALTER TABLE dossier.affiliates ADD CONSTRAINT fk_language FOREIGN KEY (language) REFERENCES public.languages (code);
    `);
    try {
      const before = await catalog();
      const bulk = await importFolder(db.pool, FULL);
      expect(bulk.method).toBe('bulk');
      expect(await catalog()).toEqual(before);
      const affiliates = bulk.files.find((f) => f.file === 'affiliates.csv')!.rows;
      // The audit trigger saw every row of the load, the disabled one none.
      expect((await db.pool.query('SELECT count(DISTINCT id)::int AS n FROM public.audit')).rows).toEqual([{ n: affiliates }]);
      const bi = await db.pool.query(
        `SELECT has_table_privilege($1, 'dossier.contributions', 'SELECT WITH GRANT OPTION') AS t, has_column_privilege($1, 'dossier.affiliates', 'last_name', 'SELECT') AS c,
                has_column_privilege($1, 'dossier.affiliates', 'inss', 'SELECT') AS inss`,
        [reader],
      );
      expect(bi.rows).toEqual([{ t: true, c: true, inss: false }]);
      // The row-by-row path keeps the tables, and so everything on them.
      await db.pool.query('TRUNCATE public.audit');
      const files = dossierFiles();
      // An empty line conforms, but the bulk path does not take it.
      files['affiliates.csv']!.splice(3, 0, '');
      const rowByRow = await importFolder(db.pool, await writeFolder(files));
      expect(rowByRow.method).toBe('row-by-row');
      expect(await catalog()).toEqual(before);
      expect((await db.pool.query('SELECT count(DISTINCT id)::int AS n FROM public.audit')).rows).toEqual([{ n: affiliates }]);
    } finally {
      await db.pool.query(`
        DROP TRIGGER tr_audit ON dossier.affiliates; DROP TRIGGER tr_audit_off ON dossier.payments;
        DROP FUNCTION public.audit_insert(); DROP TABLE public.audit;
        ALTER TABLE dossier.affiliates DROP CONSTRAINT ex_inss;
        REVOKE ALL ON dossier.contributions FROM ${reader}; REVOKE ALL (affiliate_id, last_name) ON dossier.affiliates FROM ${reader};
        COMMENT ON TABLE dossier.affiliates IS NULL; COMMENT ON COLUMN dossier.affiliates.inss IS NULL;
        DROP POLICY bi_reads ON dossier.allowances; DROP POLICY everyone ON dossier.allowances;
        ALTER TABLE dossier.allowances NO FORCE ROW LEVEL SECURITY; ALTER TABLE dossier.allowances DISABLE ROW LEVEL SECURITY;
        ALTER TABLE dossier.companies RESET (fillfactor, autovacuum_enabled);
        ALTER TABLE dossier.companies OWNER TO current_user;
        ALTER TABLE dossier.contributions ALTER COLUMN affiliate_id SET STATISTICS -1, ALTER COLUMN affiliate_id RESET (n_distinct);
        ALTER TABLE dossier.affiliates DROP CONSTRAINT fk_language; DROP TABLE public.languages;
      `);
    }
  });

  it("leaves the bulk path for a row an administrator's trigger or exclusion constraint refuses, and the row-by-row path reports its line", async () => {
    await db.pool.query(`
      CREATE FUNCTION dossier.refuse_large() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.amount_cents > 100000000 THEN RAISE EXCEPTION 'amount too large'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER tr_amount BEFORE INSERT ON dossier.contributions FOR EACH ROW EXECUTE FUNCTION dossier.refuse_large();
      ALTER TABLE dossier.affiliates ADD CONSTRAINT ex_inss EXCLUDE USING btree (inss WITH =);
    `);
    try {
      const dump = async (): Promise<string> => JSON.stringify((await db.pool.query('SELECT * FROM dossier.contributions ORDER BY 1')).rows);
      const before = await dump();
      const variants = [
        {
          file: 'contributions.csv',
          column: 5,
          value: '123456789',
          bulk: /^contributions\.csv: amount too large$/,
          row: 'contributions.csv:3: (row): refused by trigger tr_amount on dossier.contributions',
        },
        {
          file: 'affiliates.csv',
          column: 1,
          value: '85073003328',
          bulk: /^affiliates\.csv: could not create exclusion constraint "ex_inss__new"$/,
          row: 'affiliates.csv:3: inss: refused by exclusion constraint ex_inss on dossier.affiliates',
        },
      ];
      for (const v of variants) {
        const files = dossierFiles();
        files[v.file]![2] = setField(files[v.file]![2]!, v.column, v.value);
        const folder = await writeFolder(files);
        const refused = await bulkImport(db.pool, folder, () => undefined).catch((e: unknown) => e);
        expect(refused, v.file).toBeInstanceOf(BulkPathRefused);
        expect((refused as BulkPathRefused).reason, v.file).toMatch(v.bulk);
        const breaks: ContractBreak[] = [];
        const error = await importFolder(db.pool, folder, (b) => breaks.push(b)).catch((e: unknown) => e);
        expect(error, v.file).toBeInstanceOf(ImportError);
        expect(breaks.map((b) => `${b.file}:${b.line}: ${b.column}: ${b.reason}`.replace(/ of the dossier database.*/, ''))).toEqual([v.row]);
      }
      expect(await dump()).toBe(before);
    } finally {
      await db.pool.query('DROP TRIGGER tr_amount ON dossier.contributions; DROP FUNCTION dossier.refuse_large(); ALTER TABLE dossier.affiliates DROP CONSTRAINT ex_inss');
    }
  });

  it('steps aside before reading a file for a view or a publication on a dossier table, and keeps them', async () => {
    const obstacles = [
      {
        create: 'CREATE VIEW public.affiliate_names AS SELECT affiliate_id, last_name FROM dossier.affiliates',
        drop: 'DROP VIEW public.affiliate_names',
        reason: 'view public.affiliate_names depends on dossier.affiliates: a bulk import replaces the table and would drop it',
        kept: `SELECT count(*)::int AS n FROM pg_views WHERE viewname = 'affiliate_names'`,
      },
      {
        create: 'CREATE PUBLICATION dossier_to_bi FOR TABLE dossier.payments',
        drop: 'DROP PUBLICATION dossier_to_bi',
        reason: 'dossier.payments is in publication dossier_to_bi: its subscribers would not see a bulk import, which replaces the table',
        kept: `SELECT count(*)::int AS n FROM pg_publication_tables WHERE pubname = 'dossier_to_bi' AND tablename = 'payments'`,
      },
    ];
    for (const o of obstacles) {
      await db.pool.query(o.create);
      try {
        let bytes = 0;
        const refused = await bulkImport(db.pool, FULL, (b) => (bytes += b)).catch((e: unknown) => e);
        expect(refused, o.create).toBeInstanceOf(BulkPathRefused);
        expect((refused as BulkPathRefused).reason).toBe(o.reason);
        expect(bytes, o.create).toBe(0);
        const result = await importFolder(db.pool, FULL);
        expect(result.method).toBe('row-by-row');
        expect(result.bulkRefused).toBe(o.reason);
        expect((await db.pool.query(o.kept)).rows).toEqual([{ n: 1 }]);
      } finally {
        await db.pool.query(o.drop);
      }
    }
  });
});
