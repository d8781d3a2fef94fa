import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractBreak, ImportError } from '../../src/errors/errors.js';
import { BulkPathRefused, bulkImport } from '../../src/import/bulkImport.js';
import { CONTRACT } from '../../src/import/contract.js';
import { importFolder } from '../../src/import/importFolder.js';
import { dossierFiles, folderWriter, incompressible, setField } from '../helpers/dossierFolder.js';
import { ROOT } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/**
 * A database administrator may add an index, a CHECK constraint or a trigger of their own to a
 * dossier table. A row the contract allows but such an object refuses failed the row-by-row
 * path's final INSERT (or the rebuild of the index after it) with PostgreSQL's raw error: exit 1,
 * no file, no line, every time. It is a break at the row's line, naming the object.
 */
const FULL = path.join(ROOT, 'fixtures/dossier-2024');
const AFFILIATES = CONTRACT.find((t) => t.file === 'affiliates.csv')!;
const col = (name: string): number => AFFILIATES.columns.findIndex((c) => c.name === name);

const ask = (kind: string): string => `; the contract allows the row: ask the dossier database's administrator about this ${kind}, or correct the row in the source system`;

describe('import: rows the dossier database refuses', () => {
  let db: TestDatabase;
  let dir: string;
  let writeFolder: ReturnType<typeof folderWriter>;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-refused-'));
    writeFolder = folderWriter(dir);
    expect((await importFolder(db.pool, FULL)).method).toBe('bulk');
  });
  afterAll(async () => {
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function attempt(folder: string): Promise<{ error: unknown; breaks: string[] }> {
    const breaks: ContractBreak[] = [];
    const error = await importFolder(db.pool, folder, (b) => breaks.push(b)).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, breaks: breaks.map((b) => `${b.file}:${b.line}: ${b.column}: ${b.reason}`) };
  }

  async function dump(): Promise<string> {
    const parts: string[] = [];
    for (const spec of CONTRACT) parts.push(JSON.stringify((await db.pool.query(`SELECT * FROM dossier.${spec.table} ORDER BY 1, 2, 3`)).rows));
    return parts.join('\n');
  }

  it("reports each row refused by an administrator's index, expression index, CHECK or trigger at its line, naming the object, and imports nothing", async () => {
    await db.pool.query('CREATE INDEX ix_street ON dossier.affiliates (street)');
    await db.pool.query('CREATE INDEX ix_city ON dossier.affiliates ((lower(city)))');
    await db.pool.query('ALTER TABLE dossier.affiliates ADD CONSTRAINT ck_first_name CHECK (length(first_name) <= 100)');
    await db.pool.query(`CREATE FUNCTION dossier.refuse_large() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.amount_cents > 100000000 THEN RAISE EXCEPTION 'amount % too large', NEW.amount_cents; END IF; RETURN NEW; END $$`);
    await db.pool.query('CREATE TRIGGER tr_amount BEFORE INSERT ON dossier.contributions FOR EACH ROW EXECUTE FUNCTION dossier.refuse_large()');
    try {
      const before = await dump();
      const files = dossierFiles();
      const a = files['affiliates.csv']!;
      const street = incompressible(3000);
      a[2] = setField(a[2]!, col('street'), street);
      a[4] = setField(a[4]!, col('city'), incompressible(2800));
      a[8] = setField(a[8]!, col('first_name'), 'x'.repeat(150));
      const c = files['contributions.csv']!;
      c[2] = setField(c[2]!, 5, '123456789');
      const out = await attempt(await writeFolder(files));
      expect(out.error, String(out.error)).toBeInstanceOf(ImportError);
      expect((out.error as ImportError).exitCode).toBe(3);
      expect(out.breaks).toEqual([
        `affiliates.csv:3: street: refused by index dossier.ix_street of the dossier database (value too long for an index entry: 3,016 bytes, at most 2,704)${ask('index')}`,
        `affiliates.csv:5: city: refused by index dossier.ix_city of the dossier database (value too long for an index entry: 2,816 bytes, at most 2,704)${ask('index')}`,
        `affiliates.csv:9: first_name: refused by check constraint ck_first_name on dossier.affiliates of the dossier database (the row does not satisfy it)${ask('check constraint')}`,
        `contributions.csv:3: (row): refused by trigger tr_amount on dossier.contributions of the dossier database (it raised an error)${ask('trigger')}`,
      ]);
      // No value of the rows in a message (personal data).
      expect(out.breaks.join('\n')).not.toMatch(/123456789|xxxxxxxxxx/);
      expect(out.breaks.join('\n')).not.toContain(street.slice(0, 20));
      expect(await dump()).toBe(before);
    } finally {
      await db.pool.query('DROP TRIGGER tr_amount ON dossier.contributions; DROP FUNCTION dossier.refuse_large()');
      await db.pool.query('ALTER TABLE dossier.affiliates DROP CONSTRAINT ck_first_name; DROP INDEX dossier.ix_street, dossier.ix_city');
    }
  });

  it('leaves the bulk path for a value its own index refuses, and the row-by-row path reports the line; a conforming folder keeps the index', async () => {
    await db.pool.query('CREATE INDEX ix_street ON dossier.affiliates (street)');
    await db.pool.query('ALTER TABLE dossier.affiliates ADD CONSTRAINT ck_first_name CHECK (length(first_name) <= 100)');
    try {
      const before = await dump();
      const variants = [
        { column: 'street', value: incompressible(3000), refusal: /^affiliates\.csv: index row size 3016 exceeds btree version 4 maximum 2704 for index "ix_street__new"$/ },
        { column: 'first_name', value: 'x'.repeat(150), refusal: /^affiliates\.csv: new row for relation "affiliates__new" violates check constraint "ck_first_name"$/ },
      ];
      for (const v of variants) {
        const files = dossierFiles();
        files['affiliates.csv']![6] = setField(files['affiliates.csv']![6]!, col(v.column), v.value);
        const folder = await writeFolder(files);
        const refused = await bulkImport(db.pool, folder, () => undefined).catch((e: unknown) => e);
        expect(refused, v.column).toBeInstanceOf(BulkPathRefused);
        expect((refused as BulkPathRefused).reason, v.column).toMatch(v.refusal);
        const out = await attempt(folder);
        expect(out.error, v.column).toBeInstanceOf(ImportError);
        expect(
          out.breaks.map((b) => b.replace(/ \(.*/, '')),
          v.column,
        ).toEqual([
          v.column === 'street'
            ? 'affiliates.csv:7: street: refused by index dossier.ix_street of the dossier database'
            : 'affiliates.csv:7: first_name: refused by check constraint ck_first_name on dossier.affiliates of the dossier database',
        ]);
      }
      expect(await dump()).toBe(before);
      expect((await importFolder(db.pool, FULL)).method).toBe('bulk');
      const kept = await db.pool.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'dossier' AND indexname = 'ix_street'`);
      expect(kept.rows).toEqual([{ indexname: 'ix_street' }]);
    } finally {
      await db.pool.query('ALTER TABLE dossier.affiliates DROP CONSTRAINT ck_first_name; DROP INDEX dossier.ix_street');
    }
  });

  it("keeps an administrator's unique index through a bulk import, and reports a duplicate it refuses at its line (the swap dropped the index)", async () => {
    await db.pool.query('CREATE UNIQUE INDEX ux_inss ON dossier.affiliates (inss)');
    try {
      expect((await importFolder(db.pool, FULL)).method).toBe('bulk');
      const kept = await db.pool.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'dossier' AND indexname = 'ux_inss'`);
      expect(kept.rows).toEqual([{ indexdef: 'CREATE UNIQUE INDEX ux_inss ON dossier.affiliates USING btree (inss)' }]);
      const before = await dump();
      const files = dossierFiles();
      const a = files['affiliates.csv']!;
      a[6] = setField(a[6]!, col('inss'), a[2]!.split(',')[col('inss')]!);
      const folder = await writeFolder(files);
      const refused = await bulkImport(db.pool, folder, () => undefined).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BulkPathRefused);
      expect((refused as BulkPathRefused).reason).toMatch(/^affiliates\.csv: could not create unique index "ux_inss__new"$/);
      const out = await attempt(folder);
      expect(out.error, String(out.error)).toBeInstanceOf(ImportError);
      expect(out.breaks).toEqual([`affiliates.csv:7: inss: refused by index dossier.ux_inss of the dossier database (a duplicate of an earlier row)${ask('index')}`]);
      expect(await dump()).toBe(before);
    } finally {
      await db.pool.query('DROP INDEX dossier.ux_inss');
    }
  });

  it('finds every refused row of a file larger than a chunk (10,000 rows), at chunk edges too', async () => {
    await db.pool.query('CREATE INDEX ix_street ON dossier.affiliates (street)');
    try {
      const before = await dump();
      const template = dossierFiles()['affiliates.csv']![1]!;
      const lines = [AFFILIATES.columns.map((c) => c.name).join(',')];
      for (let i = 0; i < 25_000; i++) lines.push(setField(template, 0, `X${i}`));
      const refused = [2, 10_001, 10_002, 20_003, 25_001];
      for (const line of refused) lines[line - 1] = setField(lines[line - 1]!, col('street'), incompressible(3000));
      const out = await attempt(await writeFolder({ 'affiliates.csv': lines }));
      expect(out.error, String(out.error)).toBeInstanceOf(ImportError);
      expect(out.breaks.map((b) => b.replace(/: refused by index dossier\.ix_street .*/, ''))).toEqual(refused.map((l) => `affiliates.csv:${l}: street`));
      expect(await dump()).toBe(before);
    } finally {
      await db.pool.query('DROP INDEX dossier.ix_street');
    }
  });
});
