import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import type { ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { PeriodHeldError } from '../../src/errors/errors.js';
import { verifyChain } from '../../src/ledger/events.js';
import { readPeriodView } from '../../src/ledger/periodView.js';
import { parsePeriod } from '../../src/period/period.js';
import { buildReport } from '../../src/reconcile/report.js';
import { reportToText } from '../../src/reconcile/reportText.js';
import { acrfBody, CHANNEL_CLOCK, createReplyChannel, notiBody, type ReplyChannel } from '../helpers/replyChannel.js';
import { runDeps } from '../helpers/runHarness.js';

const outcomeOf = (outcomes: ReplyOutcome[], name: string): ReplyOutcome | undefined => outcomes.find((o) => o.name === name);

// A negative ACRF, then a positive NOTI or ACRF of the same file: the conflict was reported, but the
// period said "The receiver rejected #n and holds nothing of this period … maillon run …", and a
// new original went out while the receiver, which had accepted the first, held it.
describe('a positive reply after a rejection: the receiver may hold it (real sshd, real PostgreSQL)', () => {
  let ch: ReplyChannel;
  beforeAll(async () => {
    ch = await createReplyChannel();
  });
  afterAll(async () => ch?.close());

  const rerun = (period: string, receiverHoldsNothing?: number[]) =>
    runPipeline(runDeps(ch.fx.db.pool, ch.fx.outbox), {
      pipeline: career,
      period: parsePeriod(period),
      environment: 'T',
      sender: '012345',
      dryRun: false,
      correction: { reason: 'test', full: false, ...(receiverHoldsNothing ? { receiverHoldsNothing } : {}) },
    });
  const events = async (id: number) => (await ch.fx.db.pool.query(`SELECT detail FROM maillon.events WHERE submission_id = $1 AND kind = 'accepted_after_reject'`, [id])).rows.map((r) => r.detail);

  it('a NOTI after a negative ACRF: needs attention, may hold, a rerun refused without --receiver-holds-nothing', async () => {
    const t = await ch.runAndSend('T');
    await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, false));
    const noti = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 1));
    const outcomes = await ch.acks('T');
    expect(outcomeOf(outcomes, noti)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/which its ACRF .* rejected on reception; a rejected file is never processed/) });
    expect(await ch.stateOf(t.submissionId)).toBe('rejected');
    expect(await events(t.submissionId)).toEqual([{ reply: noti, replyKind: 'NOTI', says: 'accepted' }]);

    const view = await readPeriodView(ch.fx.db.pool, 'T', 'career', t.period);
    expect(view).toMatchObject({ phase: 'needs_attention', state: 'rejected', open: false });
    expect(view.action).not.toContain('holds nothing');
    expect(view.action).toContain(`The receiver rejected #${t.submissionId}, then accepted it in a later reply: it may hold this period although the ledger says rejected.`);
    expect(view.action).toContain(`Ask the receiver whether it holds #${t.submissionId}`);

    const report = await buildReport(ch.fx.db.pool, career, t.period, 'T', CHANNEL_CLOCK.now());
    expect(report.receivers.holds.flatMap((h) => h.files)).toEqual([expect.objectContaining({ name: t.file, state: 'rejected', mayHold: true })]);
    // Its records are counted as the receiver may hold them, not rejected.
    expect(report.delivery.records).toMatchObject({ rejected: 0, acceptedAfterReject: report.counts.emitted });
    expect(report.accountedFor).toBe(false);
    expect(report.unaccounted).toContain(`The receiver rejected #${t.submissionId}`);
    const text = await reportToText(report);
    expect(text).toContain('rejected, accepted after it: may hold it');
    expect(text).toContain(`${report.counts.emitted} accepted after reject (the receiver may hold them)`);

    const refused = await rerun(t.period).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PeriodHeldError);
    expect((refused as Error).message).toContain(`the receiver rejected #${t.submissionId} (original, to `);
    expect((refused as Error).message).toContain(`--receiver-holds-nothing ${t.submissionId}`);
    // A later positive reply changes nothing more: one event.
    await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 2));
    await ch.acks('T');
    expect(await events(t.submissionId)).toHaveLength(1);

    // The receiver holds none of it (its only receiver): the rerun has nothing to correct, and the
    // operator's run writes it again, as after an answer to a cancelled submission.
    await expect(rerun(t.period, [t.submissionId])).rejects.toThrow(/there is nothing to correct/);
    const sent = await ch.fx.run(career, t.period, 'T');
    expect((await ch.fx.db.pool.query(`SELECT kind FROM maillon.submissions WHERE run_id = $1`, [sent.runId])).rows).toEqual([{ kind: 'original' }]);
    expect(await readPeriodView(ch.fx.db.pool, 'T', 'career', t.period)).toMatchObject({ phase: 'in_progress', action: null });
    expect(await verifyChain(ch.fx.db.pool)).toMatchObject({ broken: null });
  });

  it('a positive ACRF after a negative one marks it too; a negative NOTI after a negative ACRF does not', async () => {
    const t = await ch.runAndSend('T');
    await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, false));
    await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 3));
    await ch.acks('T');
    expect(await readPeriodView(ch.fx.db.pool, 'T', 'career', t.period)).toMatchObject({ phase: 'needs_attention', state: 'rejected' });
    expect(await events(t.submissionId)).toEqual([]);
    const acrf = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    expect(outcomeOf(await ch.acks('T'), acrf)).toMatchObject({ result: 'conflict' });
    expect(await events(t.submissionId)).toEqual([{ reply: acrf, replyKind: 'ACRF', says: 'received' }]);
    const view = await readPeriodView(ch.fx.db.pool, 'T', 'career', t.period);
    expect(view).toMatchObject({ phase: 'needs_attention', open: false });
    expect(view.action).toContain('then accepted it in a later reply');
  });
});
