import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { PeriodHeldError } from '../../src/errors/errors.js';
import { readPeriodView } from '../../src/ledger/periodView.js';
import { parsePeriod } from '../../src/period/period.js';
import { buildReport } from '../../src/reconcile/report.js';
import { reportToCsv } from '../../src/reconcile/reportCsv.js';
import { reportToHtml } from '../../src/reconcile/reportHtml.js';
import { reportToText } from '../../src/reconcile/reportText.js';
import { maillon } from '../helpers/cli.js';
import { readTrace } from '../../src/trace/readTrace.js';
import { traceToText } from '../../src/trace/traceText.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { runDeps } from '../helpers/runHarness.js';

// contribution-slips 2024-Q1 goes to several receivers. One submission is cancelled after its GO
// and answered since (the receiver took the GO before the TD); the others are accepted. The
// receiver may hold what the ledger says is cancelled: nothing may say it holds nothing.
describe('a cancelled submission its receiver answered: may be held', () => {
  let fx: FlowFixture;
  let victim: { id: number; receiver: string; records: number };
  const now = new Date('2025-01-10T03:00:00Z');
  const rerun = (receiverHoldsNothing?: number[]) =>
    runPipeline(runDeps(fx.db.pool, fx.outbox, '2025-01-10T02:00:00+01:00'), {
      pipeline: contributionSlips,
      period: parsePeriod('2024-Q1'),
      environment: 'T',
      sender: '012345',
      dryRun: false,
      correction: { reason: 'test', full: false, ...(receiverHoldsNothing ? { receiverHoldsNothing } : {}) },
    });

  beforeAll(async () => {
    fx = await createFlowFixture();
    const run = await fx.run(contributionSlips, '2024-Q1');
    const q = fx.db.pool;
    const subs = (
      await q.query(
        `SELECT s.submission_id, s.receiver, sum(f.records)::int AS records FROM maillon.submissions s JOIN maillon.files f USING (submission_id)
         WHERE s.run_id = $1 GROUP BY 1, 2 ORDER BY 1`,
        [run.runId],
      )
    ).rows;
    expect(subs.length).toBeGreaterThan(2);
    await q.query(`UPDATE maillon.submissions SET go_started_at = now(), sent_at = now(), state = 'sent' WHERE run_id = $1`, [run.runId]);
    victim = { id: Number(subs[0].submission_id), receiver: subs[0].receiver, records: subs[0].records };
    await q.query(`UPDATE maillon.submissions SET state = 'cancelled', answered_after_cancel_at = now() WHERE submission_id = $1`, [victim.id]);
    for (const s of subs.slice(1)) {
      await q.query(`UPDATE maillon.files SET ack_state = 'received', noti_state = 'accepted' WHERE submission_id = $1`, [s.submission_id]);
      await q.query(`UPDATE maillon.submissions SET state = 'accepted' WHERE submission_id = $1`, [s.submission_id]);
    }
  });
  afterAll(async () => fx?.close());

  it('the period needs attention and asks the receiver, never "holds nothing … rerun"', async () => {
    const view = await readPeriodView(fx.db.pool, 'T', 'contribution-slips', '2024-Q1', { now, ackDelayHours: 48 });
    expect(view).toMatchObject({ phase: 'needs_attention', open: false });
    expect(view.action).not.toContain(`${victim.receiver} holds nothing`);
    expect(view.action).toContain(`${victim.receiver} may hold #${victim.id}: it answered after the cancel`);
    expect(view.action).toContain(
      `Ask the receiver whether it holds #${victim.id}, then: if it does not, maillon rerun contribution-slips --period 2024-Q1 --env T --reason "…" --receiver-holds-nothing ${victim.id}`,
    );
  });

  it('the report shows it held maybe, counts its records apart and does not say every record is accounted for', async () => {
    const r = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', now);
    const holds = r.receivers.holds.find((h) => h.receiver === victim.receiver)!;
    expect(holds.files).toEqual([expect.objectContaining({ state: 'cancelled', mayHold: true, records: victim.records })]);
    expect(r.delivery.records).toMatchObject({ cancelled: 0, answeredAfterCancel: victim.records, pending: 0 });
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.answeredAfterCancelRecords).toBe(victim.records);
    expect(r.accountedFor).toBe(false);
    expect(r.unaccounted).toContain(`${victim.records} record(s) of #${victim.id} to ${victim.receiver} may be held by the receiver`);
    const text = await reportToText(r);
    expect(text).toContain(`${victim.records} answered after cancel (the receiver may hold them)`);
    expect(text).toContain('answered after cancel: may hold it');
    expect(text).toContain('not every record is accounted for: ');
    expect(text).not.toContain('every record is accounted for\n');
    const html = await reportToHtml(r);
    expect(html).not.toContain('Every record is accounted for.');
    expect(html).toContain('may be held by the receiver');
    const csv = await reportToCsv(r);
    expect(csv).toContain(`records,answeredAfterCancel,${victim.records},`);
    expect(csv).toMatch(/verdict,accountedFor,no,.*may be held by the receiver/);
  });

  it('maillon trace says the receiver may hold a record of it, not only that it was cancelled', async () => {
    const key = (
      await fx.db.pool.query<{ source_key: string }>(
        `SELECT o.source_key FROM maillon.record_outcomes o JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key WHERE f.submission_id = $1 ORDER BY o.ordinal LIMIT 1`,
        [victim.id],
      )
    ).rows[0]!.source_key;
    const entries = (await readTrace(fx.db.pool, { kind: 'key', value: key })).filter((e) => e.submissionId === victim.id);
    expect(entries).toEqual([expect.objectContaining({ finalState: 'cancelled', receiverMayHold: true })]);
    expect(traceToText({ query: { kind: 'key', value: key }, entries })).toContain('final state: cancelled; but the receiver may hold it: it answered the submission after its cancel');
  });

  it('maillon rerun says so (exit 8) and names the flag; a flag that is not a list of ids is exit 2', async () => {
    const env = { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox), MAILLON_OUTBOX: fx.outbox, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_NOW: '2025-01-10T02:00:00+01:00' };
    const args = ['rerun', 'contribution-slips', '--period', '2024-Q1', '--reason', 'check', '--yes'];
    const refused = await maillon(args, env);
    expect(refused.code, refused.stderr).toBe(8);
    expect(refused.stderr).toContain(`--receiver-holds-nothing ${victim.id} sends them again`);
    const bad = await maillon([...args, '--receiver-holds-nothing', '#1'], env);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain('--receiver-holds-nothing takes submission ids separated by commas');
  });

  it('a rerun is refused until the operator says the receiver holds none of it; then it sends its records again', async () => {
    const refused = await rerun().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PeriodHeldError);
    expect((refused as Error).message).toContain(`the receiver answered #${victim.id} (original, to ${victim.receiver}) after it was cancelled`);
    expect((refused as Error).message).toContain(`--receiver-holds-nothing ${victim.id}`);
    await expect(rerun([victim.id + 1000])).rejects.toThrow(/--receiver-holds-nothing \d+: not a submission of contribution-slips 2024-Q1 \(T\) cancelled after its GO/);

    const sent = await rerun([victim.id]);
    expect(sent.plan?.added.length).toBe(victim.records);
    const written = (await fx.db.pool.query(`SELECT receiver, kind FROM maillon.submissions WHERE run_id = $1`, [sent.runId])).rows;
    expect(written).toEqual([{ receiver: victim.receiver, kind: 'original' }]);
    // Sent again on the operator's word: the cancelled one is cancelled, the period in progress.
    const view = await readPeriodView(fx.db.pool, 'T', 'contribution-slips', '2024-Q1', { now, ackDelayHours: 48 });
    expect(view).toMatchObject({ phase: 'in_progress', action: null });
    const r = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', now);
    expect(r.versions[0]!.records).toMatchObject({ cancelled: victim.records, answeredAfterCancel: 0 });
    expect(r.receivers.holds.find((h) => h.receiver === victim.receiver)!.files).toEqual([expect.objectContaining({ runId: sent.runId, kind: 'original' })]);
  });
});
