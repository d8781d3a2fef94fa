import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/database.js';
import { closeAbandonedRuns, startRun } from '../../src/ledger/runs.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** A run's liveness is its database session's lock, not a host name and a pid (issue 20). */
describe('runs left running', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  const stateOf = async (runId: number): Promise<{ state: string; error_class: string | null }> =>
    (await db.pool.query('SELECT state, error_class FROM maillon.runs WHERE run_id = $1', [runId])).rows[0];

  it('a run whose session is gone is closed as abandoned, whatever its host and pid (a container: pid 1, a new host name); a live one is left alone', async () => {
    // Left by a container that is gone: another host name, pid 1, no session holding its lock.
    const gone = Number(
      (
        await db.pool.query(
          `INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, started_by, host, pid)
       VALUES ('career', '2026-Q3', 'T', now(), false, 'running', now(), 'maillon', 'f3a9c1d2e4b5', 1) RETURNING run_id`,
        )
      ).rows[0].run_id,
    );
    const session = await connect(db.pool);
    try {
      const alive = await startRun(session, { flow: 'career', period: '2026-Q2', environment: 'T', asOf: new Date(), dryRun: false }, new Date());
      expect(await closeAbandonedRuns(db.pool, new Date())).toBe(1);
      expect(await stateOf(gone)).toEqual({ state: 'failed', error_class: 'Abandoned' });
      expect(await stateOf(alive)).toEqual({ state: 'running', error_class: null });
      // Its process dies (SIGKILL): the server ends its session, and with it the lock.
      const pid = (await session.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      expect((await db.pool.query('SELECT pg_terminate_backend($1, 10000) AS ok', [pid])).rows[0].ok).toBe(true);
      expect(await closeAbandonedRuns(db.pool, new Date())).toBe(1);
      expect(await stateOf(alive)).toEqual({ state: 'failed', error_class: 'Abandoned' });
    } finally {
      session.release(new Error('terminated'));
    }
  });
});
