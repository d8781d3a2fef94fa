import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContractBreak } from '../../src/errors/errors.js';
import { ImportError } from '../../src/errors/errors.js';
import { BulkPathRefused, bulkImport } from '../../src/import/bulkImport.js';
import { importFolder } from '../../src/import/importFolder.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const GOOD = path.join(ROOT, 'fixtures/career/input');
const BROKEN = path.join(ROOT, 'fixtures/import/broken');

const AFFILIATES_HEADER = 'affiliate_id,inss,last_name,first_name,birth_date,sex,language,street,postal_code,city,country,iban';

/** The conforming folder copied to `dir`, with `edits` (file → [text, replacement]) applied. */
async function goodFolderWith(dir: string, edits: Record<string, [string, string][]>): Promise<string> {
  await fs.cp(GOOD, dir, { recursive: true });
  for (const [file, changes] of Object.entries(edits)) {
    let text = await fs.readFile(path.join(dir, file), 'utf8');
    for (const [from, to] of changes) {
      if (!text.includes(from)) throw new Error(`${file} does not hold ${from}`);
      text = text.replace(from, to);
    }
    await fs.writeFile(path.join(dir, file), text);
  }
  return dir;
}

async function tableCounts(db: TestDatabase): Promise<Record<string, number>> {
  const res = await db.pool.query(`SELECT
    (SELECT count(*) FROM dossier.affiliates)::int AS affiliates,
    (SELECT count(*) FROM dossier.activity_periods)::int AS activity_periods,
    (SELECT count(*) FROM dossier.contributions)::int AS contributions,
    (SELECT count(*) FROM dossier.payments)::int AS payments`);
  return res.rows[0];
}

describe('importFolder', () => {
  let db: TestDatabase;
  let tmp: { dir: string; remove: () => Promise<void> };
  let n = 0;
  const next = (): string => path.join(tmp.dir, `f${++n}`);
  beforeAll(async () => {
    db = await createTestDatabase();
    tmp = await scratchDir('import');
  });
  afterAll(async () => {
    await db.drop();
    await tmp.remove();
  });

  /** The breaks of a refused import, as the CLI prints them; the bulk path must have refused the folder first. */
  async function refusedBreaks(folder: string): Promise<string[]> {
    await expect(bulkImport(db.pool, folder, () => undefined)).rejects.toBeInstanceOf(BulkPathRefused);
    const breaks: ContractBreak[] = [];
    const err = await importFolder(db.pool, folder, (b) => breaks.push(b)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as ImportError).breakCount).toBe(breaks.length);
    return breaks.map((b) => `${b.file}:${b.line}: ${b.column}: ${b.reason}`);
  }

  it('imports a conforming folder, and importing it again leaves the same data', async () => {
    const first = await importFolder(db.pool, GOOD);
    expect(first.rows).toBe(11 + 14 + 3 + 11 + 12);
    const counts = await tableCounts(db);
    expect(counts).toEqual({ affiliates: 11, activity_periods: 14, contributions: 11, payments: 12 });
    await importFolder(db.pool, GOOD);
    expect(await tableCounts(db)).toEqual(counts);
    const names = await db.pool.query(`SELECT last_name, first_name FROM dossier.affiliates WHERE affiliate_id = 'A003'`);
    expect(names.rows[0]).toEqual({ last_name: 'Lenoir <Jr>', first_name: 'Noël "Nono"' });
  });

  it('lists every contract break with file, line and column, and imports nothing', async () => {
    const before = await tableCounts(db);
    const breaks: ContractBreak[] = [];
    const err = await importFolder(db.pool, BROKEN, (b) => breaks.push(b)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as ImportError).exitCode).toBe(3);
    const lines = breaks.map((b) => `${b.file}:${b.line}: ${b.column}: ${b.reason}`);
    expect(lines).toEqual([
      'notes.csv:0: (file): not a file of the dossier CSV contract (expected affiliates.csv, activity_periods.csv, mutuality_affiliations.csv, contributions.csv, payments.csv, allowances.csv, companies.csv, incapacity_requests.csv)',
      'affiliates.csv:3: inss: expected 11 digits, got 10 characters',
      'affiliates.csv:3: birth_date: expected a date YYYY-MM-DD, got "1985-02-30"',
      'affiliates.csv:4: sex: expected one of M, F, X, got "Q"',
      'affiliates.csv:6: country: expected an ISO 3166 alpha-2 country code, got "be"',
      'activity_periods.csv:3: (row): expected 6 fields, got 4',
      'activity_periods.csv:4: category: expected one of main, complementary, after_pension, helper_maxi, student, got "boss"',
      'activity_periods.csv:4: company_number: expected 10 digits, got 3 characters',
      'contributions.csv:1: (header): expected exactly "contribution_id,affiliate_id,quarter,kind,reference_income_cents,amount_cents,due_date", got "contribution_id,affiliate_id,kind,quarter,reference_income_cents,amount_cents,due_date", so none of its rows were checked',
      'payments.csv:2: amount_cents: expected an integer (euro cents, no decimals), got "12.50"',
      'payments.csv:3: amount_cents: expected an integer of at least 1, got 0',
      'payments.csv:4: value_date: expected a date YYYY-MM-DD, got "2026/07/01"',
      'incapacity_requests.csv:2: insurer_code: expected one of 100, 200, 300, 400, 500, 600, 900, got "700"',
      'incapacity_requests.csv:3: incapacity_start: expected a date YYYY-MM-DD, got "2024-04-31"',
      'affiliates.csv:6: affiliate_id: duplicate key "B001", first at line 2',
      'activity_periods.csv:2: affiliate_id: unknown affiliate_id "B999": not in affiliates.csv',
      'payments.csv:4: payment_id: duplicate key "P2", first at line 3',
      // contributions.csv was not read (its header): C404 may well be in it.
      "payments.csv:0: contribution_id: 1 reference could not be checked (at line 2): contributions.csv does not have the contract's header, so none of its rows were checked (see its break)",
      'incapacity_requests.csv:3: request_id: duplicate key "R1", first at line 2',
      'incapacity_requests.csv:4: affiliate_id: unknown affiliate_id "B999": not in affiliates.csv',
    ]);
    expect(await tableCounts(db)).toEqual(before);
  });

  it('refuses a folder without affiliates.csv', async () => {
    const breaks: ContractBreak[] = [];
    await expect(importFolder(db.pool, path.join(ROOT, 'fixtures/career'), (b) => breaks.push(b))).rejects.toBeInstanceOf(ImportError);
    expect(breaks).toEqual([{ file: 'affiliates.csv', line: 0, column: '(file)', reason: 'required file is missing' }]);
  });

  it('checks every row before a CSV syntax error, also those csv-parse had read in the same chunk', async () => {
    // payments.csv: P001 twice, an unknown contribution and an amount with decimals, then a quote
    // inside an unquoted field at line 6. The file is one read chunk: csv-parse's stream, failing,
    // dropped the rows it had parsed but not handed over, and these breaks went unreported.
    const folder = await goodFolderWith(next(), {
      'payments.csv': [
        ['P001Q2,', 'P001,'],
        ['P001U,A001,,payment,5000,', 'P001U,A001,C404,payment,50.00,'],
        ['P003,A003,C003,', 'P003,A003,C"003",'],
      ],
    });
    expect(await refusedBreaks(folder)).toEqual([
      'payments.csv:4: amount_cents: expected an integer (euro cents, no decimals), got "50.00"',
      'payments.csv:6: (row): not valid CSV (RFC 4180): a quote inside a field that does not start with one; quote the whole field and double the quotes inside it; the rest of the file, from this line on, was not read',
      'payments.csv:3: payment_id: duplicate key "P001", first at line 2',
      'payments.csv:4: contribution_id: unknown contribution_id "C404": not in contributions.csv',
    ]);
  });

  it('stops at a quote never closed mid-file: references past it are counted once as not checked, not called unknown', async () => {
    // A005's street, line 6 of affiliates.csv, opens a quote that is never closed: only A001–A004
    // (lines 2–5) are read. Every other file refers to A005–A011 too.
    const folder = await goodFolderWith(next(), { 'affiliates.csv': [['Hauptstraße 5', '"Hauptstraße 5']] });
    const cut = 'not found in affiliates.csv before line 6, which could not be read from there on (see its break)';
    expect(await refusedBreaks(folder)).toEqual([
      'affiliates.csv:6: (row): not valid CSV (RFC 4180): a quoted field is never closed; the rest of the file, from this line on, was not read',
      // A001 and A003, all of mutuality_affiliations.csv refers to, are before the cut: checked.
      `activity_periods.csv:0: affiliate_id: 8 references could not be checked (the first at line 8): ${cut}`,
      `contributions.csv:0: affiliate_id: 7 references could not be checked (the first at line 5): ${cut}`,
      `payments.csv:0: affiliate_id: 7 references could not be checked (the first at line 7): ${cut}`,
    ]);
  });

  it("reads none of a file whose header is not the contract's, and says once per referring file and column that its references could not be checked", async () => {
    const swapped = AFFILIATES_HEADER.replace('last_name,first_name', 'first_name,last_name');
    const folder = await goodFolderWith(next(), { 'affiliates.csv': [[AFFILIATES_HEADER, swapped]] });
    const notRead = "affiliates.csv does not have the contract's header, so none of its rows were checked (see its break)";
    expect(await refusedBreaks(folder)).toEqual([
      `affiliates.csv:1: (header): expected exactly "${AFFILIATES_HEADER}", got "${swapped}", so none of its rows were checked`,
      `activity_periods.csv:0: affiliate_id: 14 references could not be checked (the first at line 2): ${notRead}`,
      `mutuality_affiliations.csv:0: affiliate_id: 3 references could not be checked (the first at line 2): ${notRead}`,
      `contributions.csv:0: affiliate_id: 11 references could not be checked (the first at line 2): ${notRead}`,
      `payments.csv:0: affiliate_id: 12 references could not be checked (the first at line 2): ${notRead}`,
    ]);
  });

  it('quotes refused text with its control characters escaped and cut to a sane length: escape sequences and NUL bytes never reach the terminal', async () => {
    // eslint-disable-next-line no-control-regex -- control characters are what must not get through
    const controls = /[\u0000-\u001f\u007f-\u009f]/;
    const hostile = `${AFFILIATES_HEADER}\x1b[2J\x1b]0;pwned\x07`;
    const escaped = await goodFolderWith(next(), { 'affiliates.csv': [[AFFILIATES_HEADER, hostile]] });
    const breaks = await refusedBreaks(escaped);
    expect(breaks[0]).toBe(`affiliates.csv:1: (header): expected exactly "${AFFILIATES_HEADER}", got "${AFFILIATES_HEADER}\\x1b[2J\\x1b]0;pwned\\x07", so none of its rows were checked`);
    // A UTF-16 export: a NUL after every ASCII character, the header cut at 200 characters.
    const utf16 = await goodFolderWith(next(), {});
    const text = await fs.readFile(path.join(utf16, 'affiliates.csv'), 'utf8');
    await fs.writeFile(path.join(utf16, 'affiliates.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.replace(AFFILIATES_HEADER, `${AFFILIATES_HEADER},x`), 'utf16le')]));
    const header = (await refusedBreaks(utf16))[0]!;
    expect(header).toMatch(/^affiliates\.csv:1: \(header\): expected exactly "[^"]+", got "\uFFFD\uFFFDa\\x00f\\x00f\\x00i\\x00.*\.\.\.", so none of its rows were checked$/);
    expect(header.length).toBeLessThan(1200);
    // A field: a line break in a date, a C1 control (CSI) in a reference.
    const fields = await goodFolderWith(next(), { 'activity_periods.csv': [['A001,activity,main,2015-03-01,', 'A\u009b2J,activity,main,"2015-03\n-01",']] });
    expect(await refusedBreaks(fields)).toEqual([
      'activity_periods.csv:2: start_date: expected a date YYYY-MM-DD, got "2015-03\\x0a-01"',
      'activity_periods.csv:2: affiliate_id: unknown affiliate_id "A\\x9b2J": not in affiliates.csv',
    ]);
    for (const b of [...breaks, header]) expect(b).not.toMatch(controls);
  });

  it('never prints a full INSS in a break: a data row taken for the header, an INSS in a date column', async () => {
    const headless = await goodFolderWith(next(), { 'affiliates.csv': [[`${AFFILIATES_HEADER}\n`, '']] });
    const shifted = await goodFolderWith(next(), { 'activity_periods.csv': [['A001,activity,main,2015-03-01,', 'A001,activity,main,85073003328,']] });
    for (const folder of [headless, shifted]) {
      const breaks = await refusedBreaks(folder);
      expect(breaks.some((b) => b.includes('85*******28'))).toBe(true);
      expect(breaks.filter((b) => /(?<!\d)\d{11}(?!\d)/.test(b))).toEqual([]);
    }
  });

  it('names a missing or empty affiliates.csv once, not at every reference to it', async () => {
    const files = ['activity_periods.csv:14', 'mutuality_affiliations.csv:3', 'contributions.csv:11', 'payments.csv:12'].map((f) => f.split(':'));
    const unchecked = (why: string): string[] => files.map(([file, n]) => `${file}:0: affiliate_id: ${n} references could not be checked (the first at line 2): ${why}`);
    const missing = await goodFolderWith(next(), {});
    await fs.rm(path.join(missing, 'affiliates.csv'));
    const breaks: ContractBreak[] = [];
    await expect(importFolder(db.pool, missing, (b) => breaks.push(b))).rejects.toBeInstanceOf(ImportError);
    expect(breaks.map((b) => `${b.file}:${b.line}: ${b.column}: ${b.reason}`)).toEqual(['affiliates.csv:0: (file): required file is missing', ...unchecked('affiliates.csv is missing')]);
    const empty = await goodFolderWith(next(), {});
    await fs.writeFile(path.join(empty, 'affiliates.csv'), '');
    expect(await refusedBreaks(empty)).toEqual(['affiliates.csv:1: (header): the file is empty: the header line is missing', ...unchecked('affiliates.csv is empty (see its break)')]);
  });
});
