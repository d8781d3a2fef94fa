import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { readPeriodView } from '../../src/ledger/periodView.js';
import { parsePeriod } from '../../src/period/period.js';
import { buildReport } from '../../src/reconcile/report.js';
import { reportToCsv } from '../../src/reconcile/reportCsv.js';
import { reportToHtml } from '../../src/reconcile/reportHtml.js';
import { reportToText } from '../../src/reconcile/reportText.js';
import { readTrace } from '../../src/trace/readTrace.js';
import { traceToHtml } from '../../src/trace/traceHtml.js';
import { traceToText } from '../../src/trace/traceText.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { runDeps } from '../helpers/runHarness.js';

// contribution-slips 2024-Q1 goes to several receivers. One submission's file is rejected by its
// ACRF, then accepted by a later reply (the receiver may hold it: status says so); another is only
// rejected; the others are accepted. The report counted the first one's records rejected, as if the
// receiver held none of them, while status said it may hold them.
describe('a rejected submission its receiver accepted since: its records are counted may-hold', () => {
  let fx: FlowFixture;
  type Sub = { id: number; receiver: string; records: number };
  let victim: Sub;
  let rejected: Sub;
  let accepted: number;
  const now = new Date('2025-01-10T03:00:00Z');

  beforeAll(async () => {
    fx = await createFlowFixture();
    const run = await fx.run(contributionSlips, '2024-Q1');
    const q = fx.db.pool;
    const subs: Sub[] = (
      await q.query(
        `SELECT s.submission_id::int AS id, s.receiver, sum(f.records)::int AS records FROM maillon.submissions s JOIN maillon.files f USING (submission_id)
         WHERE s.run_id = $1 GROUP BY 1, 2 ORDER BY 1`,
        [run.runId],
      )
    ).rows;
    expect(subs.length).toBeGreaterThan(2);
    await q.query(`UPDATE maillon.submissions SET go_started_at = now(), sent_at = now(), state = 'sent' WHERE run_id = $1`, [run.runId]);
    [victim, rejected] = [subs[0]!, subs[1]!];
    // As acks leaves them: a negative ACRF; for the victim, a positive reply since (markAcceptedAfterReject).
    for (const s of [victim, rejected]) {
      await q.query(`UPDATE maillon.files SET ack_state = 'rejected', ack_errors = '{E01}' WHERE submission_id = $1`, [s.id]);
      await q.query(`UPDATE maillon.submissions SET state = 'rejected' WHERE submission_id = $1`, [s.id]);
    }
    await q.query(`UPDATE maillon.submissions SET answered_after_cancel_at = now(), answered_after_cancel_last_id = (SELECT max(submission_id) FROM maillon.submissions) WHERE submission_id = $1`, [
      victim.id,
    ]);
    for (const s of subs.slice(2)) {
      await q.query(`UPDATE maillon.files SET ack_state = 'received', noti_state = 'accepted' WHERE submission_id = $1`, [s.id]);
      await q.query(`UPDATE maillon.submissions SET state = 'accepted' WHERE submission_id = $1`, [s.id]);
    }
    accepted = subs.slice(2).reduce((n, s) => n + s.records, 0);
  });
  afterAll(async () => fx?.close());

  it('status says the receiver may hold it, and the report counts its records as such, not rejected', async () => {
    const view = await readPeriodView(fx.db.pool, 'T', 'contribution-slips', '2024-Q1', { now, ackDelayHours: 48 });
    expect(view.submissions.filter((s) => s.mayHold).map((s) => s.id)).toEqual([victim.id]);
    expect(view.action).toContain(`${victim.receiver} may hold #${victim.id}`);

    const r = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', now);
    expect(r.delivery.records).toEqual({ accepted, acceptedWithAnomalies: 0, rejected: rejected.records, pending: 0, cancelled: 0, answeredAfterCancel: 0, acceptedAfterReject: victim.records });
    expect(r.versions[0]!.records).toEqual(r.delivery.records);
    expect(r.acceptedAfterRejectRecords).toBe(victim.records);
    expect(r.answeredAfterCancelRecords).toBe(0);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    // What the receivers hold and what the counts say agree: the files it may hold are the records counted may-hold.
    const maybe = r.receivers.holds.flatMap((h) => h.files.filter((f) => f.mayHold));
    expect(maybe).toEqual([expect.objectContaining({ state: 'rejected', records: victim.records })]);
    expect(r.accountedFor).toBe(false);
    expect(r.unaccounted).toContain(`The receiver rejected #${victim.id} to ${victim.receiver}, then accepted it in a later reply`);
    expect(r.unaccounted).toContain(`it may hold those ${victim.records} record(s)`);
    // The records of the rejected files are still listed with the rejection's codes.
    expect(r.delivery.recordIssues.filter((i) => i.state === 'rejected')).toHaveLength(victim.records + rejected.records);

    const text = await reportToText(r);
    expect(text).toContain(`${rejected.records} rejected, 0 pending, ${victim.records} accepted after reject (the receiver may hold them)`);
    expect(text).toContain('  not every record is accounted for: The receiver rejected');
    expect(text).not.toContain('a check FAILED');
    const csv = await reportToCsv(r);
    expect(csv).toContain(`records,rejected,${rejected.records},`);
    expect(csv).toContain(`records,acceptedAfterReject,${victim.records},`);
    const html = await reportToHtml(r);
    expect(html).toContain('accepted after reject (may be held)');
    expect(html).not.toContain('Every record is accounted for.');
  });

  const keyOf = async (submission: number): Promise<string> =>
    (
      await fx.db.pool.query<{ source_key: string }>(
        `SELECT o.source_key FROM maillon.record_outcomes o JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key WHERE f.submission_id = $1 ORDER BY o.ordinal LIMIT 1`,
        [submission],
      )
    ).rows[0]!.source_key;
  const traced = async (submission: number) => (await readTrace(fx.db.pool, { kind: 'key', value: await keyOf(submission) })).find((e) => e.submissionId === submission)!;

  it('maillon trace says the receiver may hold a record of it, not only that it was rejected', async () => {
    const mine = await traced(victim.id);
    expect(mine).toMatchObject({ finalState: 'rejected', receiverMayHold: true });
    expect(traceToText({ query: { kind: 'key', value: mine.sourceKey }, entries: [mine] })).toContain(
      'final state: rejected; but the receiver may hold it: it accepted the submission in a later reply, and nothing was sent to it for the period since',
    );
    expect(traceToHtml({ query: { kind: 'key', value: mine.sourceKey }, entries: [mine] })).toContain('but the receiver may hold it');
    expect(await traced(rejected.id)).toMatchObject({ finalState: 'rejected', receiverMayHold: false });
  });

  it('once the operator sends that receiver its records again, they count rejected, as status says', async () => {
    const sent = await runPipeline(runDeps(fx.db.pool, fx.outbox, '2025-01-10T02:00:00+01:00'), {
      pipeline: contributionSlips,
      period: parsePeriod('2024-Q1'),
      environment: 'T',
      sender: '012345',
      dryRun: false,
      correction: { reason: 'test', full: false, receiverHoldsNothing: [victim.id] },
    });
    const written = (await fx.db.pool.query(`SELECT receiver FROM maillon.submissions WHERE run_id = $1`, [sent.runId])).rows.map((x) => x.receiver);
    expect(written).toContain(victim.receiver);
    const view = await readPeriodView(fx.db.pool, 'T', 'contribution-slips', '2024-Q1', { now, ackDelayHours: 48 });
    expect(view.submissions.filter((s) => s.mayHold)).toEqual([]);
    const r = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', now);
    expect(r.versions[0]!.records).toMatchObject({ rejected: victim.records + rejected.records, acceptedAfterReject: 0 });
    expect(r.acceptedAfterRejectRecords).toBe(0);
    expect(r.receivers.holds.flatMap((h) => h.files.filter((f) => f.mayHold))).toEqual([]);
    expect(await traced(victim.id)).toMatchObject({ receiverMayHold: false });
  });
});
