import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { statistics } from '../../pipelines/statistics.js';
import { deriveSubmissionState } from '../../src/ack/applyReply.js';
import { withTransaction } from '../../src/db/database.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';

const at = new Date('2026-10-10T02:00:00Z');

describe('deriveSubmissionState', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
  });
  afterAll(async () => fx?.close());

  // Each submission is of its own period (a period its receiver holds is never run twice).
  const periods = ['2026-Q3', '2026-Q2', '2026-Q1', '2025-Q4', '2025-Q3'];
  async function submission(state: string, ack: string | null, noti: string | null): Promise<number> {
    const run = await fx.run(career, periods.shift()!);
    const id = Number((await fx.db.pool.query('SELECT submission_id FROM maillon.submissions WHERE run_id = $1', [run.runId])).rows[0].submission_id);
    // Brought to its state along the ledger's state graph (migration 009 refuses any other move).
    await fx.db.pool.query(`UPDATE maillon.submissions SET go_started_at = $2, sent_at = $2, state = 'sent' WHERE submission_id = $1`, [id, at]);
    if (state !== 'sent') await fx.db.pool.query('UPDATE maillon.submissions SET state = $2 WHERE submission_id = $1', [id, state]);
    await fx.db.pool.query(`UPDATE maillon.files SET ack_state = $2, noti_state = $3 WHERE submission_id = $1 AND kind = 'FI'`, [id, ack, noti]);
    return id;
  }
  const derive = (id: number) => withTransaction(fx.db.pool, (tx) => deriveSubmissionState(tx, id, at, 'FO.TEST'));
  const events = async (id: number) => (await fx.db.pool.query('SELECT kind, detail FROM maillon.events WHERE submission_id = $1 AND kind <> $2 ORDER BY event_id', [id, 'written'])).rows;
  const stateOf = async (id: number) => (await fx.db.pool.query('SELECT state FROM maillon.submissions WHERE submission_id = $1', [id])).rows[0].state;

  it('moves a submission to what its files say, with one event, and writes nothing when nothing changes', async () => {
    const id = await submission('sent', 'received', null);
    expect(await derive(id)).toEqual({ from: 'sent', to: 'received' });
    expect(await derive(id)).toBeNull();
    expect(await events(id)).toEqual([{ kind: 'received', detail: { from: 'sent', reply: 'FO.TEST' } }]);
  });

  it.each(['accepted', 'accepted_with_anomalies', 'rejected', 'cancelled'])('never leaves %s, whatever its files say, and writes no event', async (final) => {
    const id = await submission(final, 'received', final === 'rejected' ? 'accepted' : 'rejected');
    expect(await derive(id)).toBeNull();
    expect(await stateOf(id)).toBe(final);
    expect(await events(id)).toEqual([]);
  });
});

describe('deriveSubmissionState of a submission of several data files', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture();
  });
  afterAll(async () => fx?.close());

  it('stays sent until every part is acknowledged (or notified); then received', async () => {
    const run = await fx.run(statistics, '2024-Q1');
    expect(run.files).toHaveLength(5);
    const id = Number((await fx.db.pool.query('SELECT submission_id FROM maillon.submissions WHERE run_id = $1', [run.runId])).rows[0].submission_id);
    await fx.db.pool.query(`UPDATE maillon.submissions SET go_started_at = $2, sent_at = $2, state = 'sent' WHERE submission_id = $1`, [id, at]);
    const part = (n: number, ack: string | null, noti: string | null) =>
      fx.db.pool.query(`UPDATE maillon.files SET ack_state = $3, noti_state = $4 WHERE submission_id = $1 AND kind = 'FI' AND name = $2`, [id, run.files[n]!.name, ack, noti]);
    const derive = () => withTransaction(fx.db.pool, (tx) => deriveSubmissionState(tx, id, at, 'FO.TEST'));
    // One positive ACRF of five: the receiver has not said it holds the other four.
    await part(0, 'received', null);
    expect(await derive()).toBeNull();
    for (const n of [1, 2, 3]) await part(n, 'received', null);
    expect(await derive()).toBeNull();
    // The last part's NOTI came before its ACRF: the receiver holds it.
    await part(4, null, 'accepted');
    expect(await derive()).toEqual({ from: 'sent', to: 'received' });
  });
});
