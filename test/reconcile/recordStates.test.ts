import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordStateSql } from '../../src/reconcile/delivery.js';
import { createReplyChannel, notiBody, type ReplyChannel } from '../helpers/replyChannel.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

/** Every node of a plan under (and with) `node`. */
function nodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}

/**
 * A report's record states (versions' counts, the list of records not simply accepted) read the
 * run's anomalies once, grouped, then join them to the records: a lookup per record (a lateral
 * subquery, one aggregate per row) was a third of the report's time at a million records.
 */
describe('record states of a run (real PostgreSQL, real sshd)', () => {
  let ch: ReplyChannel;
  let runId: number;
  beforeAll(async () => {
    ch = await createReplyChannel();
    const t = await ch.runAndSend('T');
    runId = t.run.runId;
    await ch.put(
      'OUTTEST',
      'T',
      'NOTI',
      notiBody(t.file, 2, [
        { inss: '85073003328', code: 'B0042', blocking: 'B' },
        { inss: '03051212332', code: 'N0007' },
      ]),
    );
    expect((await ch.acks('T')).map((o) => o.result)).toEqual(['processed']);
  });
  afterAll(async () => ch?.close());

  it('aggregates the anomalies in one pass, whatever the number of records', async () => {
    const sql = `SELECT state, count(*)::int AS n FROM (${recordStateSql('= $1')}) r GROUP BY state`;
    const explained = await ch.fx.db.pool.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, [runId]);
    const plan = explained.rows[0]['QUERY PLAN'][0].Plan as PlanNode;
    const anomalyScans = nodes(plan).filter((n) => n['Relation Name'] === 'record_anomalies');
    expect(anomalyScans.length).toBe(1);
    expect(anomalyScans[0]!['Actual Loops']).toBe(1);
    const states = await ch.fx.db.pool.query(sql, [runId]);
    const n = (state: string): number => states.rows.find((r) => r.state === state)?.n ?? 0;
    expect(n('rejected')).toBe(1);
    expect(n('accepted_with_anomalies')).toBe(1);
    expect(n('accepted')).toBeGreaterThan(0);
  });
});
