import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incapacityAttestations } from '../../pipelines/incapacityAttestations.js';
import { fixedClock } from '../../src/clock/clock.js';
import type { Pool } from '../../src/db/database.js';
import { createLateRecordsStore, type LateRecordsStore } from '../../src/status/lateRecordsStore.js';
import { createMetrics } from '../../src/status/metrics.js';
import { refreshLateRecords, statusSnapshot } from '../../src/status/statusSnapshot.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const DAYS = 30;
const PER_DAY = 50;
// The day after the last run day, 08:00 UTC.
const NOW = new Date(Date.UTC(2025, 0, 1) + DAYS * 86_400_000 + 8 * 3_600_000);
const day = (d: number): string => new Date(Date.UTC(2025, 0, 1) + d * 86_400_000).toISOString().slice(0, 10);

/**
 * Review serve finding 1: serve's page and every /metrics scrape counted the late records of every
 * period of the 400-day window, reading all of each day's dossier keys (6.5 s a scrape at bench
 * scale). serve now counts them at its tick and a scrape reads the stored counts.
 */
describe("serve's store of late records", () => {
  let db: TestDatabase;
  let queries = 0;
  // The dossier as serve's store sees it, counting the statements it is sent.
  const dossier = { query: (...args: unknown[]) => (queries++, (db.pool.query as (...a: unknown[]) => unknown)(...args)) } as unknown as Pool;
  const scrape = async (late: Pool | LateRecordsStore): Promise<string> => {
    queries = 0;
    return createMetrics(db.pool, {
      clock: fixedClock(NOW.toISOString()),
      pipelines: [incapacityAttestations],
      environment: 'T',
      windowDays: 400,
      ackDelayHours: 48,
      catchUpDays: 400,
      dossier: late,
    }).metrics();
  };
  const tick = (store: LateRecordsStore): Promise<void> => refreshLateRecords(store, db.pool, [incapacityAttestations], 'T', NOW, 400, 48);
  const needsAttention = (m: string): string | undefined => /maillon_periods\{flow="incapacity-attestations",phase="needs_attention"\} (\d+)/.exec(m)?.[1];
  const addRequest = (id: string, d: number): Promise<unknown> =>
    db.pool.query(`INSERT INTO dossier.incapacity_requests (request_id, affiliate_id, insurer_code, requested_on, incapacity_start) VALUES ($1, 'A', '100', $2, $2)`, [id, day(d)]);

  beforeAll(async () => {
    db = await createTestDatabase();
    const q = (sql: string): Promise<unknown> => db.pool.query(sql);
    // DAYS days of PER_DAY requests, each day run and every request in its lineage (as in the review's bench).
    await q(`ALTER TABLE dossier.incapacity_requests DROP CONSTRAINT incapacity_requests_affiliate_id_fkey`);
    await q(`INSERT INTO dossier.incapacity_requests (request_id, affiliate_id, insurer_code, requested_on, incapacity_start)
             SELECT 'R-' || d || '-' || i, 'A', '100', date '2025-01-01' + d, date '2025-01-01' + d FROM generate_series(0, ${DAYS - 1}) d, generate_series(1, ${PER_DAY}) i`);
    await q(`INSERT INTO maillon.runs (run_id, flow, period, environment, as_of, dry_run, state, started_at, finished_at, extracted, emitted, quarantined, started_by, host, pid)
             OVERRIDING SYSTEM VALUE SELECT d + 1, 'incapacity-attestations', to_char(date '2025-01-01' + d, 'YYYY-MM-DD'), 'T', now(), false, 'succeeded', now(), now(), ${PER_DAY}, 0, 0, 't', 'h', 1
             FROM generate_series(0, ${DAYS - 1}) d`);
    await q(`SELECT setval(pg_get_serial_sequence('maillon.runs', 'run_id'), ${DAYS})`);
    await q(`INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, file_key, position)
             SELECT d + 1, i, 'R-' || d || '-' || i, 'emitted', 'f', i FROM generate_series(0, ${DAYS - 1}) d, generate_series(1, ${PER_DAY}) i`);
    // Two days gained a request after their run.
    await addRequest('LATE-3', 3);
    await addRequest('LATE-7', 7);
  });
  afterAll(async () => db?.drop());

  it('a scrape after the tick sends a bounded number of dossier queries whatever the number of days, and says what the dossier read directly says', async () => {
    const direct = await scrape(dossier);
    // What serve did before: one query of all the day's keys per run day.
    expect(queries).toBeGreaterThanOrEqual(DAYS);
    expect(needsAttention(direct)).toBe('2');
    const store = createLateRecordsStore(dossier, db.pool);
    await tick(store);
    const stored = await scrape(store);
    expect(queries).toBeLessThanOrEqual(2);
    expect(stored).toBe(direct);
    // The page and /status.json: the same periods, counts and actions as `maillon status`.
    queries = 0;
    const page = await statusSnapshot(db.pool, [incapacityAttestations], 'T', NOW, 400, 48, 400, store);
    expect(queries).toBeLessThanOrEqual(2);
    expect(page.periods).toEqual((await statusSnapshot(db.pool, [incapacityAttestations], 'T', NOW, 400, 48, 400, dossier)).periods);
    expect(page.periods.find((p) => p.period === day(3))).toMatchObject({ lateRecords: 1, category: 'needs_attention' });
  });

  it('sees a dossier change at the next tick, and a run that ended at once (counting that period only)', async () => {
    const store = createLateRecordsStore(dossier, db.pool);
    await tick(store);
    await addRequest('LATE-12', 12);
    expect(needsAttention(await scrape(store))).toBe('2');
    await tick(store);
    expect(needsAttention(await scrape(store))).toBe('3');
    // A rerun of day 3 answers its late request: the stored count of day 3 no longer holds.
    await db.pool
      .query(
        `INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, finished_at, extracted, emitted, quarantined, kind, started_by, host, pid)
                         VALUES ('incapacity-attestations', $1, 'T', now(), false, 'succeeded', now(), now(), 1, 1, 0, 'correction', 't', 'h', 1) RETURNING run_id`,
        [day(3)],
      )
      .then((r) => db.pool.query(`INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, file_key, position) VALUES ($1, 1, 'LATE-3', 'emitted', 'f', 1)`, [r.rows[0].run_id]));
    const after = await scrape(store);
    expect(needsAttention(after)).toBe('2');
    // The dossier's change counter, then the day's keys.
    expect(queries).toBeLessThanOrEqual(2);
    expect(after).toBe(await scrape(dossier));
  });
});
