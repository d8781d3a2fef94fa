import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContractBreak } from '../../src/errors/errors.js';
import { ImportError } from '../../src/errors/errors.js';
import { importFolder } from '../../src/import/importFolder.js';
import { ROOT } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const GOOD = path.join(ROOT, 'fixtures/career/input');
const BROKEN = path.join(ROOT, 'fixtures/import/broken');

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
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

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
      'contributions.csv:1: (header): expected exactly "contribution_id,affiliate_id,quarter,kind,reference_income_cents,amount_cents,due_date", got "contribution_id,affiliate_id,kind,quarter,reference_income_cents,amount_cents,due_date"',
      'payments.csv:2: amount_cents: expected an integer (euro cents, no decimals), got "12.50"',
      'payments.csv:3: amount_cents: expected an integer of at least 1, got 0',
      'payments.csv:4: value_date: expected a date YYYY-MM-DD, got "2026/07/01"',
      'incapacity_requests.csv:2: insurer_code: expected one of 100, 200, 300, 400, 500, 600, 900, got "700"',
      'incapacity_requests.csv:3: incapacity_start: expected a date YYYY-MM-DD, got "2024-04-31"',
      'affiliates.csv:6: affiliate_id: duplicate key "B001", first at line 2',
      'activity_periods.csv:2: affiliate_id: unknown affiliate_id "B999": not in affiliates.csv',
      'payments.csv:4: payment_id: duplicate key "P2", first at line 3',
      'payments.csv:2: contribution_id: unknown contribution_id "C404": not in contributions.csv',
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
});
