import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractBreak, ImportError } from '../../src/errors/errors.js';
import { BulkPathRefused, bulkImport } from '../../src/import/bulkImport.js';
import { CONTRACT, type ColumnSpec } from '../../src/import/contract.js';
import { importFolder, type ImportResult } from '../../src/import/importFolder.js';
import { recordReader } from '../../src/import/recordReader.js';
import { dossierFiles, folderWriter, incompressible, setField } from '../helpers/dossierFolder.js';
import { ROOT } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/**
 * The bulk path lets PostgreSQL read and convert the files. PostgreSQL accepts more than the
 * contract ("2024-1-5", "+5", a stray quote, a line holding only "\."), so every column is
 * broken here in turn, in files without quotes and in the file with quotes (each record checked
 * against the contract's record format): the import must never take a value the row-by-row
 * path refuses.
 */
const FULL = path.join(ROOT, 'fixtures/dossier-2024');

/** Every affiliate of the hand-checked dossier, and the first row of each other file. */
function smallFolder(): Record<string, string[]> {
  return Object.fromEntries(Object.entries(dossierFiles(FULL)).map(([file, lines]) => [file, file === 'affiliates.csv' ? lines : lines.slice(0, 2)]));
}

/** Bad values for a column type that the contract refuses; the first ones PostgreSQL would take. */
function badValues(col: ColumnSpec): string[] {
  const t = col.type;
  const empty = col.nullable ? [] : ['', '""'];
  switch (t.kind) {
    case 'text':
      return t.maxBytes === undefined ? empty : [...empty, 'x'.repeat(t.maxBytes + 1)];
    case 'digits':
      return [...empty, '1'.repeat(t.length - 1), `${'1'.repeat(t.length - 1)}x`];
    case 'date':
      return [...empty, '2024-1-5', 'infinity', '20240105', '2023-02-30', '0000-01-01'];
    case 'month':
      return [...empty, '2024-13', '2024-1'];
    case 'quarter':
      return [...empty, '2024-Q5', '2024Q1'];
    case 'country':
      return [...empty, 'be', 'BEL'];
    case 'enum':
      return [...empty, `${t.values[0]!} `, 'zz'];
    case 'integer':
      return [...empty, '+5', ' 5', '12.50', '1234567890123456789', ...(t.min !== undefined ? [String(t.min - 1)] : [])];
  }
}

/** A CSV field quoted, its quotes doubled. */
const quoted = (value: string): string => `"${value.replaceAll('"', '""')}"`;

describe('import: bulk path', () => {
  let db: TestDatabase;
  let dir: string;
  let writeFolder: ReturnType<typeof folderWriter>;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-bulk-'));
    writeFolder = folderWriter(dir);
  });
  afterAll(async () => {
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function attempt(folder: string): Promise<{ result?: ImportResult; breaks: ContractBreak[]; error?: unknown }> {
    const breaks: ContractBreak[] = [];
    try {
      return { result: await importFolder(db.pool, folder, (b) => breaks.push(b)), breaks };
    } catch (error) {
      return { error, breaks };
    }
  }

  async function dump(): Promise<string> {
    const parts: string[] = [];
    for (const spec of CONTRACT) {
      const res = await db.pool.query(`SELECT * FROM dossier.${spec.table} ORDER BY 1, 2, 3`);
      parts.push(JSON.stringify(res.rows));
    }
    return parts.join('\n');
  }

  it('imports a conforming folder with PostgreSQL reading the files, and loads exactly what the row-by-row path loads', async () => {
    const bulk = await importFolder(db.pool, FULL);
    expect(bulk.method).toBe('bulk');
    expect(bulk.bulkRefused).toBeNull();
    const viaBulk = await dump();
    // An empty line is allowed by the contract but not by PostgreSQL's CSV reader: the import
    // takes the row-by-row path, and the tables must come out the same.
    const withBlank = path.join(dir, 'blank');
    await fs.cp(FULL, withBlank, { recursive: true });
    await fs.appendFile(path.join(withBlank, 'payments.csv'), '\n');
    const checked = await importFolder(db.pool, withBlank);
    expect(checked.method).toBe('row-by-row');
    expect(checked.bulkRefused).toMatch(/payments\.csv/);
    expect(checked.files.map((f) => f.rows)).toEqual(bulk.files.map((f) => f.rows));
    expect(await dump()).toBe(viaBulk);
  });

  const cases: { file: string; column: string; index: number; value: string }[] = [];
  for (const spec of CONTRACT) {
    spec.columns.forEach((col, index) => {
      for (const value of badValues(col)) cases.push({ file: spec.file, column: col.name, index, value });
    });
  }

  // One whole import per bad value: a longer timeout than the others.
  it(`refuses every one of ${cases.length} bad values, one column at a time, and reports it at its line and column`, async () => {
    const before = await dump();
    const accepted: string[] = [];
    const unreported: string[] = [];
    for (const c of cases) {
      const files = smallFolder();
      files[c.file]![1] = setField(files[c.file]![1]!, c.index, c.value);
      const out = await attempt(await writeFolder(files));
      const label = `${c.file} ${c.column}=${JSON.stringify(c.value)}`;
      if (!(out.error instanceof ImportError)) accepted.push(label);
      else if (!out.breaks.some((b) => b.file === c.file && b.line === 2 && b.column === c.column)) unreported.push(`${label}: ${JSON.stringify(out.breaks)}`);
    }
    expect(accepted).toEqual([]);
    expect(unreported).toEqual([]);
    expect(await dump()).toBe(before);
  }, 240_000);

  it('refuses what PostgreSQL would read but RFC 4180 does not, and duplicate keys and unknown references', async () => {
    const variants: { name: string; change: (f: Record<string, string[]>) => void; expected: string }[] = [
      {
        name: 'a quote inside an unquoted field',
        change: (f) => (f['affiliates.csv']![1] = setField(f['affiliates.csv']![1]!, 2, 'Du"pont"')),
        expected: 'affiliates.csv:2: (row)',
      },
      { name: 'a line holding only \\.', change: (f) => f['payments.csv']!.push('\\.'), expected: 'payments.csv:3: (row)' },
      { name: 'a duplicate key', change: (f) => f['contributions.csv']!.push(f['contributions.csv']![1]!), expected: 'contributions.csv:3: contribution_id' },
      {
        name: 'an unknown affiliate',
        change: (f) => (f['mutuality_affiliations.csv']![1] = setField(f['mutuality_affiliations.csv']![1]!, 0, 'NOPE')),
        expected: 'mutuality_affiliations.csv:2: affiliate_id',
      },
    ];
    for (const v of variants) {
      const files = smallFolder();
      v.change(files);
      const out = await attempt(await writeFolder(files));
      expect(out.error, `${v.name}: ${String(out.error)} ${(out.error as Error)?.stack}`).toBeInstanceOf(ImportError);
      expect(
        out.breaks.map((b) => `${b.file}:${b.line}: ${b.column}`),
        v.name,
      ).toContain(v.expected);
    }
  });

  it('refuses an identifier longer than the indexes take at its line, on both paths (3,000 bytes failed the import whole: "index row size 3016 exceeds btree version 4 maximum 2704")', async () => {
    const before = await dump();
    const reason = (bytes: string): string => `affiliate_id: is ${bytes} bytes long; the database can index an identifier of at most 2,600 bytes: shorten it in the source system`;
    // 2,600 bytes in 1,301 characters, a doubled quote among them: the record format counts the
    // value's UTF-8 bytes, as checkField does.
    const atLimit = `${'é'.repeat(1299)}"x`;
    const withAffiliate = (id: string): { files: Record<string, string[]>; line: number } => {
      const files = smallFolder();
      const lines = files['affiliates.csv']!;
      lines.push(setField(lines[1]!, 0, quoted(id)));
      return { files, line: lines.length };
    };
    for (const [id, bytes] of [
      [incompressible(3000), '3,000'],
      [`${atLimit}x`, '2,601'],
    ] as const) {
      const { files, line } = withAffiliate(id);
      const folder = await writeFolder(files);
      const refused = await bulkImport(db.pool, folder, () => undefined).catch((e: unknown) => e);
      expect(refused, bytes).toBeInstanceOf(BulkPathRefused);
      expect((refused as BulkPathRefused).reason).toBe(`affiliates.csv: line ${line} does not have the contract's form`);
      for (const blank of [false, true]) {
        if (blank) await fs.appendFile(path.join(folder, 'companies.csv'), '\n');
        const out = await attempt(folder);
        expect(out.error, `${bytes} ${String(out.error)}`).toBeInstanceOf(ImportError);
        expect(out.breaks.map((b) => `${b.file}:${b.line}: ${b.column}: ${b.reason}`)).toEqual([`affiliates.csv:${line}: ${reason(bytes)}`]);
      }
    }
    expect(await dump()).toBe(before);
    const taken = await attempt(await writeFolder(withAffiliate(atLimit).files));
    expect(taken.result?.method, String(taken.error)).toBe('bulk');
    const stored = await db.pool.query(`SELECT octet_length(affiliate_id) AS n FROM dossier.affiliates WHERE affiliate_id = $1`, [atLimit]);
    expect(stored.rows).toEqual([{ n: 2600 }]);
  });

  it('leaves the bulk path for a value too long for an index the contract does not know of (54000 failed the import whole)', async () => {
    await db.pool.query('CREATE INDEX affiliates_last_name ON dossier.affiliates (last_name)');
    try {
      const files = smallFolder();
      files['affiliates.csv']![1] = setField(files['affiliates.csv']![1]!, 2, incompressible(3000));
      const refused = await bulkImport(db.pool, await writeFolder(files), () => undefined).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BulkPathRefused);
      expect((refused as BulkPathRefused).reason).toMatch(/^affiliates\.csv: index row size \d+ exceeds btree version 4 maximum 2704 for index "affiliates_last_name__new"/);
    } finally {
      await db.pool.query('DROP INDEX dossier.affiliates_last_name');
    }
  });

  it('names the line where a record starts, as an editor numbers it, after quoted fields holding a CRLF or a lone CR, on both paths', async () => {
    // A line ends at LF (a street on two lines from a Windows export holds a CRLF). csv-parse counts
    // a CR, and each half of a CRLF, inside a quoted field as a line: the bulk path (recordReader) does not.
    const spec = CONTRACT.find((t) => t.file === 'affiliates.csv')!;
    const set = (f: Record<string, string[]>, i: number, column: string, value: string): void => {
      f['affiliates.csv']![i] = setField(
        f['affiliates.csv']![i]!,
        spec.columns.findIndex((c) => c.name === column),
        value,
      );
    };
    const CRLF = '"Rue de la Loi 16\r\nboîte 3"';
    const CR = '"Rue de Rivoli 1\rbâtiment B"';
    const sexQ = 'sex: expected one of M, F, X, got "Q"';
    const variants: { name: string; change: (f: Record<string, string[]>) => void; eol?: string; expected: string[]; bulkLine?: number }[] = [
      { name: 'a CRLF inside quotes', change: (f) => (set(f, 1, 'street', CRLF), set(f, 3, 'sex', 'Q')), expected: [`5: ${sexQ}`], bulkLine: 5 },
      { name: 'a lone CR inside quotes', change: (f) => (set(f, 1, 'street', CR), set(f, 3, 'sex', 'Q')), expected: [`4: ${sexQ}`], bulkLine: 4 },
      {
        name: 'a CRLF file',
        eol: '\r\n',
        change: (f) => (set(f, 1, 'street', CRLF), set(f, 2, 'street', CRLF), set(f, 4, 'sex', 'Q')),
        expected: [`7: ${sexQ}`],
        bulkLine: 7,
      },
      {
        name: 'a duplicate key',
        change: (f) => (set(f, 1, 'street', CRLF), set(f, 2, 'street', CR), f['affiliates.csv']!.push(f['affiliates.csv']![2]!)),
        expected: ['14: affiliate_id: duplicate key "D02", first at line 4'],
      },
      {
        name: 'not valid CSV',
        change: (f) => (set(f, 1, 'street', CRLF), set(f, 2, 'street', CR), set(f, 3, 'last_name', 'Du"pont"')),
        expected: [
          '5: (row): not valid CSV (RFC 4180): a quote inside a field that does not start with one; quote the whole field and double the quotes inside it; the rest of the file, from this line on, was not read',
        ],
        bulkLine: 5,
      },
      {
        name: 'a quote never closed, read on by csv-parse to the next quote',
        change: (f) => (set(f, 1, 'street', CRLF), set(f, 2, 'street', CR), set(f, 3, 'street', '"Markt 2')),
        expected: ['5: (row): not valid CSV (RFC 4180): characters after the closing quote of a field; double the quotes inside a quoted field; the rest of the file, from this line on, was not read'],
        bulkLine: 5,
      },
    ];
    for (const v of variants) {
      const files = smallFolder();
      v.change(files);
      const folder = await writeFolder(files, v.eol);
      const out = await attempt(folder);
      expect(out.error, v.name).toBeInstanceOf(ImportError);
      expect(
        out.breaks.filter((b) => b.file === 'affiliates.csv').map((b) => `${b.line}: ${b.column}: ${b.reason}`),
        v.name,
      ).toEqual(v.expected);
      if (v.bulkLine === undefined) continue;
      const reader = recordReader(spec, path.join(folder, spec.file));
      reader.write(await fs.readFile(path.join(folder, spec.file)));
      expect((await reader.end()).problem, v.name).toMatch(new RegExp(`^line ${v.bulkLine} `));
    }
  });

  it('reads conforming values that PostgreSQL could read differently (leading zeros, a quoted empty optional field) exactly as the row-by-row path does', async () => {
    const files = smallFolder();
    const amount = CONTRACT.find((t) => t.file === 'payments.csv')!.columns.findIndex((c) => c.name === 'amount_cents');
    files['payments.csv']![1] = setField(files['payments.csv']![1]!, amount, '0087171');
    const iban = CONTRACT.find((t) => t.file === 'affiliates.csv')!.columns.findIndex((c) => c.name === 'iban');
    files['affiliates.csv']![1] = setField(files['affiliates.csv']![1]!, iban, '""');
    const folder = await writeFolder(files);
    const bulk = await attempt(folder);
    expect(bulk.result?.method).toBe('bulk');
    const viaBulk = await dump();
    expect(viaBulk).toContain('"amount_cents":"87171"');
    await fs.appendFile(path.join(folder, 'companies.csv'), '\n');
    const checked = await attempt(folder);
    expect(checked.result?.method).toBe('row-by-row');
    expect(await dump()).toBe(viaBulk);
    const res = await db.pool.query(`SELECT count(*)::int AS n FROM dossier.affiliates WHERE iban IS NULL`);
    expect(res.rows[0].n).toBeGreaterThan(0);
  });

  it('reads quoted text fields (commas, doubled quotes, line breaks) as the row-by-row path does; a quoted date takes the row-by-row path', async () => {
    const spec = CONTRACT.find((t) => t.file === 'affiliates.csv')!;
    const col = (name: string): number => spec.columns.findIndex((c) => c.name === name);
    const files = smallFolder();
    let line = files['affiliates.csv']![1]!;
    line = setField(line, col('street'), '"Rue de la Loi 16\nboîte 3, 2e étage"');
    line = setField(line, col('last_name'), '"Van ""Het"" Hof"');
    files['affiliates.csv']![1] = line;
    const folder = await writeFolder(files);
    const bulk = await attempt(folder);
    expect(bulk.result?.method, String(bulk.error)).toBe('bulk');
    const viaBulk = await dump();
    expect(viaBulk).toContain('Rue de la Loi 16\\nboîte 3, 2e étage');
    expect(viaBulk).toContain('Van \\"Het\\" Hof');
    await fs.appendFile(path.join(folder, 'companies.csv'), '\n');
    const checked = await attempt(folder);
    expect(checked.result?.method).toBe('row-by-row');
    expect(await dump()).toBe(viaBulk);

    // Legal CSV, but not the record format: the row-by-row path reads it, and gets the same.
    const quotedDate = smallFolder();
    quotedDate['affiliates.csv']![1] = setField(quotedDate['affiliates.csv']![1]!, col('birth_date'), '"1980-10-28"');
    const dated = await attempt(await writeFolder(quotedDate));
    expect(dated.result?.method).toBe('row-by-row');
    expect(dated.result?.bulkRefused).toMatch(/affiliates\.csv: line 2 /);

    // A quote never closed: refused (csv-parse reads on to the next quote and reports there).
    const unclosed = smallFolder();
    unclosed['affiliates.csv']![2] = setField(unclosed['affiliates.csv']![2]!, col('street'), '"Markt 2');
    const out = await attempt(await writeFolder(unclosed));
    expect(out.error).toBeInstanceOf(ImportError);
    expect(out.breaks.map((b) => b.file)).toContain('affiliates.csv');
  });

  it('reports a quoted field of 10 MB at its line, or takes it where the contract sets no length, instead of crashing (RangeError: Maximum call stack size exceeded, exit 1)', async () => {
    await importFolder(db.pool, await writeFolder(smallFolder()));
    const before = await dump();
    const long = 'A'.repeat(10_000_000);
    // An identifier: refused at its line (by the row-by-row path, which the bulk path leaves it to).
    const requests = smallFolder();
    requests['incapacity_requests.csv']!.push(setField(requests['incapacity_requests.csv']![1]!, 0, `"${long}"`));
    const out = await attempt(await writeFolder(requests));
    expect(out.error, String(out.error)).toBeInstanceOf(ImportError);
    expect(out.breaks.map((b) => `${b.file}:${b.line}: ${b.column}: ${b.reason}`)).toEqual([
      'incapacity_requests.csv:3: request_id: is 10,000,000 bytes long; the database can index an identifier of at most 2,600 bytes: shorten it in the source system',
    ]);
    expect(await dump()).toBe(before);
    // A last name: text of any length (docs/dossier-text.md), imported row by row.
    const named = smallFolder();
    const affiliates = named['affiliates.csv']!;
    affiliates.push(setField(setField(affiliates[1]!, 0, 'D-LONG'), 2, `"${long}"`));
    const taken = await attempt(await writeFolder(named));
    expect(taken.result?.method, String(taken.error)).toBe('row-by-row');
    expect(taken.result?.bulkRefused).toBe(`affiliates.csv: line ${affiliates.length} opens a quoted field that is not closed within 65536 characters`);
    const stored = await db.pool.query(`SELECT octet_length(last_name) AS n FROM dossier.affiliates WHERE affiliate_id = 'D-LONG'`);
    expect(stored.rows).toEqual([{ n: 10_000_000 }]);
    await importFolder(db.pool, await writeFolder(smallFolder()));
  });

  it("rebuilds the tables beside the old ones and swaps them: a crashed import's leftovers are dropped, grants are kept, a view stops the swap", async () => {
    // What a killed import leaves: a half-built table under the __new name.
    await db.pool.query('CREATE TABLE dossier.affiliates__new (x int)');
    const role = `maillon_reader_${process.pid}`;
    await db.pool.query(`CREATE ROLE ${role} NOLOGIN`);
    try {
      await db.pool.query(`GRANT SELECT ON dossier.contributions TO ${role}`);
      const first = await importFolder(db.pool, FULL);
      expect(first.method).toBe('bulk');
      const left = await db.pool.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'dossier' AND tablename LIKE '%new'`);
      expect(left.rows).toEqual([]);
      const grant = await db.pool.query(`SELECT has_table_privilege($1, 'dossier.contributions', 'SELECT') AS ok`, [role]);
      expect(grant.rows[0].ok).toBe(true);
      // The keys, indexes and foreign keys are back under their own names.
      const cons = await db.pool.query(`SELECT conname FROM pg_constraint WHERE connamespace = 'dossier'::regnamespace AND contype IN ('p', 'f') ORDER BY 1`);
      expect(cons.rows.map((r) => r.conname)).toContain('payments_contribution_id_fkey');
      expect(cons.rows.map((r) => r.conname)).toContain('affiliates_pkey');
      const idx = await db.pool.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'dossier' AND tablename <> 'schemaversion' ORDER BY 1`);
      // Exactly the dossier schema's indexes (migrations 001, 002, 004, 006 and 007), none left under a `__new` name.
      expect(idx.rows.map((r) => r.indexname)).toEqual([
        'activity_periods_affiliate',
        'affiliates_pkey',
        'allowances_affiliate',
        'allowances_month',
        'allowances_pkey',
        'changes_pkey',
        'companies_pkey',
        'contributions_pkey',
        'incapacity_requests_pkey',
        'incapacity_requests_requested_on',
        'mutuality_affiliations_affiliate',
        'payments_contribution',
        'payments_pkey',
      ]);
      // Identifiers and period keys compare byte by byte (migration 003), also in the swapped-in tables.
      const keys = await db.pool.query(
        `SELECT table_name || '.' || column_name AS col, collation_name FROM information_schema.columns
         WHERE table_schema = 'dossier' AND column_name IN ('affiliate_id', 'contribution_id', 'payment_id', 'allowance_id', 'company_number', 'quarter', 'month')
         ORDER BY 1`,
      );
      expect(keys.rows.length).toBe(15);
      expect(keys.rows.filter((r) => r.collation_name !== 'C')).toEqual([]);
      const names = await db.pool.query(`SELECT collation_name FROM information_schema.columns WHERE table_schema = 'dossier' AND table_name = 'affiliates' AND column_name = 'last_name'`);
      expect(names.rows[0].collation_name).toBeNull();
      // Written frozen (COPY … FREEZE): every page is all-visible from the start, so the keys, the
      // reference checks and the first flow's reads set no hint bits
      // (docs/decisions/0007-copy-freeze.md).
      const visible = await db.pool.query(
        `SELECT relname, relpages, relallvisible FROM pg_class WHERE relnamespace = 'dossier'::regnamespace AND relkind = 'r' AND relname NOT IN ('schemaversion', 'changes') ORDER BY 1`,
      );
      expect(visible.rows.length).toBe(CONTRACT.length);
      for (const r of visible.rows) {
        expect(r.relpages, r.relname).toBeGreaterThan(0);
        expect(r.relallvisible, r.relname).toBe(r.relpages);
      }
      // A view on a dossier table cannot survive a swap: the import empties the tables instead.
      await db.pool.query('CREATE VIEW public.affiliate_names AS SELECT affiliate_id, last_name FROM dossier.affiliates');
      const second = await importFolder(db.pool, FULL);
      expect(second.method).toBe('row-by-row');
      expect(second.bulkRefused).toBe('view public.affiliate_names depends on dossier.affiliates: a bulk import replaces the table and would drop it');
      expect((await db.pool.query('SELECT count(*)::int AS n FROM public.affiliate_names')).rows[0].n).toBe(first.files[0]!.rows);
      await db.pool.query('DROP VIEW public.affiliate_names');
    } finally {
      await db.pool.query(`REVOKE ALL ON dossier.contributions FROM ${role}`).catch(() => undefined);
      await db.pool.query(`DROP ROLE ${role}`);
    }
  });
});
