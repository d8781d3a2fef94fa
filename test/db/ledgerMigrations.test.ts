import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { rejectedBaseSql } from '../../src/ledger/rejectedBase.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** A thousand submissions of a flow (four of them in 2026-Q3), each with six events. */
async function someHistory(db: TestDatabase): Promise<void> {
  await db.pool.query(
    `INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, finished_at, extracted, emitted, quarantined, started_by, host, pid)
     VALUES ('career', '2026-Q3', 'T', '2026-10-10T00:00:00Z', false, 'succeeded', '2026-10-10T00:00:00Z', '2026-10-10T00:01:00Z', 1, 1, 0, 'op', 'old-host', 1)`,
  );
  await db.pool.query(
    `INSERT INTO maillon.submissions (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, state, created_at, kind)
     SELECT 1, 'career', CASE WHEN g <= 4 THEN '2026-Q3' ELSE 'P' || g END, 'T', 'INASTI', '012345', 'CARR', '2026-10-10', lpad(g::text, 5, '0'), 1, 'written', '2026-10-10T00:01:00Z', 'correction'
     FROM generate_series(1, 1000) g`,
  );
  await db.pool.query(
    `INSERT INTO maillon.events (at, submission_id, kind, detail, prev_hash, hash)
     SELECT '2026-10-10T00:01:00Z', s, k, '{}', md5(s || k || 'prev') || md5(s || k), md5(s || k || 'hash') || md5(k || s)
     FROM generate_series(1, 1000) s, unnest(ARRAY['written', 'go_started', 'sent', 'acrf', 'noti', 'rejected']) k`,
  );
  await db.pool.query('ANALYZE maillon.submissions, maillon.events');
}

/** The plan PostgreSQL picks for the rejected-base check of the submissions of one period. */
async function rejectedBasePlan(db: TestDatabase): Promise<string> {
  const plan = await db.pool.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (COSTS OFF) SELECT s.submission_id, ${rejectedBaseSql('s')} AS ids FROM maillon.submissions s WHERE flow = 'career' AND period = '2026-Q3' AND environment = 'T'`,
  );
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** A ledger as maillon left it at migration 170, with some history, brought to the latest version. */
describe('migration 190: the events of a submission by index', () => {
  let db: TestDatabase;
  let applied: number[];
  let before: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('DROP SCHEMA maillon CASCADE');
    await migrate(db.pool, 'ledger', 170);
    await someHistory(db);
    before = await rejectedBasePlan(db);
    applied = await migrate(db.pool, 'ledger');
  });
  afterAll(async () => db?.drop());

  it('indexes maillon.events by submission, kind and event id', async () => {
    expect(applied).toContain(190);
    const index = await db.pool.query<{ def: string }>(`SELECT pg_get_indexdef('maillon.events_submission'::regclass) AS def`);
    expect(index.rows[0]!.def).toContain('ON maillon.events USING btree (submission_id, kind, event_id)');
  });

  it('the rejected-base check reads the written and rejected events of a submission by that index', async () => {
    // Before it, PostgreSQL read the whole chain (a sequential scan, or every event after one).
    expect(before).not.toContain('events_submission');
    const plan = await rejectedBasePlan(db);
    expect(plan).toMatch(/using events_submission on events we\n\s+Index Cond: \(\(submission_id = s\.submission_id\) AND \(kind = 'written'::text\)/);
    expect(plan).toMatch(/using events_submission on events re\n\s+Index Cond: \(\(submission_id = rb(_\d)?\.submission_id\) AND \(kind = 'rejected'::text\)/);
  });
});
