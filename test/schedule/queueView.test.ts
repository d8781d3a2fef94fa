import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock/clock.js';
import { readQueue } from '../../src/schedule/queueView.js';
import { createMetrics } from '../../src/status/metrics.js';
import { PIPELINES } from '../../pipelines/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** Review serve finding 6: the queue depth counted every environment's jobs; the waiting list did not. */
describe("the scheduler's queue as an instance reads it", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    // The columns of pg-boss's job table that the view reads; one job of a T instance sharing the ledger.
    await db.pool.query(`CREATE SCHEMA IF NOT EXISTS maillon_jobs`);
    await db.pool.query(`CREATE TABLE IF NOT EXISTS maillon_jobs.job (name text, state text, data jsonb, created_on timestamptz DEFAULT now())`);
    await db.pool.query(`INSERT INTO maillon_jobs.job (name, state, data) VALUES ('maillon-run', 'created', '{"flow": "career", "period": "2026-Q3", "environment": "T"}')`);
  });
  afterAll(async () => db?.drop());

  it("counts the instance's own environment only, as its waiting list does", async () => {
    expect((await readQueue(db.pool, 'R')).depth).toEqual({});
    expect((await readQueue(db.pool, 'T')).depth).toEqual({ created: 1 });
    const m = await createMetrics(db.pool, { clock: fixedClock('2026-10-12T00:00:00Z'), pipelines: PIPELINES, environment: 'R', windowDays: 30, ackDelayHours: 48 }).metrics();
    expect(m).toContain('maillon_queue_jobs{state="created"} 0');
  });
});
