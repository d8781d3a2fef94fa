import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { applyTestReply } from '../helpers/applyTestReply.js';
import { withTransaction } from '../../src/db/database.js';
import { transitionSubmission } from '../../src/ledger/transitions.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { submissionsOf } from '../helpers/ledger.js';
import { ROOT } from '../helpers/runHarness.js';

const AT = new Date('2026-10-10T03:00:00Z');

/** State moves by one guarded statement with its event; PostgreSQL refuses the others (issue 20). */
describe('guarded transitions of a submission', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
  });
  afterAll(async () => fx?.close());

  const events = async (id: number): Promise<string[]> => (await fx.db.pool.query('SELECT kind FROM maillon.events WHERE submission_id = $1 ORDER BY event_id', [id])).rows.map((r) => r.kind);
  const stateOf = async (id: number): Promise<string> => (await fx.db.pool.query('SELECT state FROM maillon.submissions WHERE submission_id = $1', [id])).rows[0].state;
  const move = (id: number, from: Parameters<typeof transitionSubmission>[1]['from'], to: Parameters<typeof transitionSubmission>[1]['to']) =>
    withTransaction(fx.db.pool, (tx) => transitionSubmission(tx, { submissionId: id, from, to, at: AT, event: { kind: to, detail: {} } }));

  it('moves only from the states given, and writes its event only when it moved', async () => {
    const [id] = await submissionsOf(fx.db.pool, (await fx.run(career, '2026-Q3')).runId);
    expect(await move(id!, ['sent'], 'received')).toBe(false);
    expect(await events(id!)).toEqual(['written']);
    expect(await move(id!, ['written'], 'cancelled')).toBe(true);
    expect(await move(id!, ['written'], 'cancelled')).toBe(false);
    expect(await events(id!)).toEqual(['written', 'cancelled']);
    await expect(move(id!, ['cancelled'], 'written')).rejects.toThrow('a transition may not leave the final state(s) cancelled');
  });

  it('PostgreSQL refuses to reopen a final state, to skip the GO, or to start anywhere but written', async () => {
    const [id] = await submissionsOf(fx.db.pool, (await fx.run(career, '2026-Q2')).runId);
    await expect(fx.db.pool.query(`UPDATE maillon.submissions SET state = 'sent' WHERE submission_id = $1`, [id])).rejects.toThrow(
      `submission ${id} cannot be sent without its GO being recorded as started`,
    );
    await expect(fx.db.pool.query(`UPDATE maillon.submissions SET state = 'accepted' WHERE submission_id = $1`, [id])).rejects.toThrow(`submission ${id} cannot go from written to accepted`);
    await fx.db.pool.query(`UPDATE maillon.submissions SET go_started_at = $2 WHERE submission_id = $1`, [id, AT]);
    expect(await move(id!, ['written'], 'sent')).toBe(true);
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'accepted' WHERE submission_id = $1`, [id]);
    for (const state of ['rejected', 'sent', 'written', 'cancelled']) {
      await expect(fx.db.pool.query(`UPDATE maillon.submissions SET state = $2 WHERE submission_id = $1`, [id, state])).rejects.toThrow(`submission ${id} cannot go from accepted to ${state}`);
    }
    await expect(
      fx.db.pool.query(
        `INSERT INTO maillon.submissions (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, state, created_at, kind)
                        SELECT run_id, flow, period, environment, receiver, sender, purpose, creation_date, 'ZZZZZ', parts, 'accepted', created_at, 'correction' FROM maillon.submissions WHERE submission_id = $1`,
        [id],
      ),
    ).rejects.toThrow('a new submission is written');
  });

  it('a second NOTI, rejecting a submission already accepted, does not reopen it', async () => {
    const run = await fx.run(career, '2026-Q1');
    const [id] = await submissionsOf(fx.db.pool, run.runId);
    const name = run.files[0]!.name;
    await fx.db.pool.query(`UPDATE maillon.submissions SET go_started_at = $2 WHERE submission_id = $1`, [id, AT]);
    await move(id!, ['written'], 'sent');
    await withTransaction(fx.db.pool, (tx) => applyTestReply(tx, 'FO.NOTI.1', AT, { kind: 'NOTI', fileName: name, result: 'accepted', anomalies: [] }));
    expect(await stateOf(id!)).toBe('accepted');
    // However the reply is handled (applied to the files, or set aside as a conflict), the submission stays accepted.
    await withTransaction(fx.db.pool, (tx) => applyTestReply(tx, 'FO.NOTI.2', AT, { kind: 'NOTI', fileName: name, result: 'rejected', anomalies: [] })).catch(() => undefined);
    expect(await stateOf(id!)).toBe('accepted');
  });
});
