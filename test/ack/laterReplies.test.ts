import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import type { ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { buildReport } from '../../src/reconcile/report.js';
import { traceRecord } from '../../src/trace/traceRecord.js';
import { acrfBody, CHANNEL_CLOCK, createReplyChannel, notiBody, type ReplyChannel } from '../helpers/replyChannel.js';

const outcomeOf = (outcomes: ReplyOutcome[], name: string): ReplyOutcome | undefined => outcomes.find((o) => o.name === name);

/** A negative ACRF with the error ids given. */
const rejectingAcrf = (fileName: string, errorIds: string[]): string => acrfBody(fileName, false).replace('<ErrorID>E002-REFUSED</ErrorID>', errorIds.map((e) => `<ErrorID>${e}</ErrorID>`).join(''));

// A second NOTI (or negative ACRF) of a file that says more than the first was filed as "Duplicate
// … saying the same" when its result was the same, and its anomalies thrown away: a record the
// receiver refused in its latest word stayed accepted in the report and the trace.
describe('a later reply of a file that says more than the one applied (real sshd, real PostgreSQL)', () => {
  let ch: ReplyChannel;
  beforeAll(async () => {
    ch = await createReplyChannel();
  });
  afterAll(async () => ch?.close());

  const recordsOf = async (runId: number) =>
    (
      await ch.fx.db.pool.query<{ source_key: string; record_key: string }>(`SELECT source_key, record_key FROM maillon.record_outcomes WHERE run_id = $1 AND outcome = 'emitted' ORDER BY ordinal`, [
        runId,
      ])
    ).rows;

  it('a second NOTI with a new blocking anomaly is a contradiction that says so; the anomaly refuses its record in the report and the trace', async () => {
    const t = await ch.runAndSend('T');
    const [a, b] = await recordsOf(t.run.runId);
    const warning = { inss: a!.record_key, code: 'N0007' };
    await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    const first = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 2, [warning]));
    expect((await ch.acks('T')).map((o) => o.result)).toEqual(['processed', 'processed']);
    expect(await ch.stateOf(t.submissionId)).toBe('accepted_with_anomalies');

    const more = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 2, [warning, { inss: b!.record_key, blocking: 'B', code: 'E900' }]));
    const outcome = outcomeOf(await ch.acks('T'), more);
    expect(outcome).toMatchObject({ result: 'conflict' });
    expect(outcome!.reason).toBe(
      `Contradiction: this NOTI says accepted_with_anomalies, as the NOTI already applied to ${t.file} (${first}) did, but not with the same anomalies; its result changes nothing. ` +
        `It carries 1 new blocking anomaly, recorded with the records they name: a blocking one refuses its record (maillon report, maillon trace).`,
    );
    expect(await ch.stateOf(t.submissionId)).toBe('accepted_with_anomalies');
    // Only what is new is recorded: the warning the first NOTI gave is not counted twice.
    const stored = await ch.fx.db.pool.query(
      `SELECT p.name, a.code, a.ordinal IS NOT NULL AS matched FROM maillon.record_anomalies a JOIN maillon.replies p USING (reply_id) WHERE a.run_id = $1 ORDER BY a.anomaly_id`,
      [t.run.runId],
    );
    expect(stored.rows).toEqual([
      { name: first, code: 'N0007', matched: true },
      { name: more, code: 'E900', matched: true },
    ]);

    const report = await buildReport(ch.fx.db.pool, career, t.period, 'T', CHANNEL_CLOCK.now());
    expect(report.delivery.records).toMatchObject({ rejected: 1, acceptedWithAnomalies: 1 });
    expect(report.delivery.recordIssues.find((i) => i.sourceKey === b!.source_key)).toMatchObject({ state: 'rejected', codes: 'E900' });
    expect(report.replyIssues).toEqual([expect.objectContaining({ name: more, state: 'conflict', reason: outcome!.reason })]);
    const trace = await traceRecord({ ledger: ch.fx.db.pool, dossier: ch.fx.db.pool }, b!.source_key, { now: CHANNEL_CLOCK.now() });
    expect(trace.entries.find((e) => e.period === t.period)).toMatchObject({ finalState: 'rejected', anomalies: [{ reply: more, code: 'E900', blocking: true }] });

    // The same anomalies again, in another order and other bytes: nothing new to record.
    const again = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 2, [{ inss: b!.record_key, blocking: 'B', code: 'E900', description: 'other words' }, warning]));
    // The first NOTI's anomalies, in another order of bytes: a duplicate.
    const same = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 2, [{ ...warning, description: 'said otherwise' }]));
    const outcomes = await ch.acks('T');
    expect(outcomeOf(outcomes, again)!.reason).toMatch(/not with the same anomalies; its result changes nothing\. It carries no anomaly that an earlier reply did not give\.$/);
    expect(outcomeOf(outcomes, same)!.reason).toMatch(/^Duplicate: the NOTI of .* was already applied .*, saying the same \(accepted_with_anomalies\)\.$/);
    expect((await ch.fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.record_anomalies WHERE run_id = $1`, [t.run.runId])).rows[0].n).toBe(2);
  });

  it('a second NOTI with another result says how many new blocking anomalies it carries, and records them', async () => {
    const t = await ch.runAndSend('T');
    const [a] = await recordsOf(t.run.runId);
    await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 1));
    await ch.acks('T');
    const later = await ch.put(
      'OUTTEST',
      'T',
      'NOTI',
      notiBody(t.file, 2, [
        { inss: a!.record_key, blocking: 'B', code: 'E901' },
        { inss: a!.record_key, code: 'N0001' },
      ]),
    );
    expect(outcomeOf(await ch.acks('T'), later)!.reason).toMatch(
      /said accepted; the first stands\. It carries 1 new blocking anomaly and 1 other new anomaly, recorded with the records they name: a blocking one refuses its record/,
    );
    const report = await buildReport(ch.fx.db.pool, career, t.period, 'T', CHANNEL_CLOCK.now());
    expect(report.delivery.recordIssues.find((i) => i.sourceKey === a!.source_key)).toMatchObject({ state: 'rejected', codes: 'E901,N0001' });
  });

  it('a second negative ACRF with other error ids is a contradiction, not a duplicate; the same error ids are a duplicate', async () => {
    const t = await ch.runAndSend('T');
    await ch.put('OUTTEST', 'T', 'ACRF', rejectingAcrf(t.file, ['E1']));
    await ch.acks('T');
    const other = await ch.put('OUTTEST', 'T', 'ACRF', rejectingAcrf(t.file, ['E1', 'E2']));
    const same = await ch.put('OUTTEST', 'T', 'ACRF', `${rejectingAcrf(t.file, ['E1'])}\n`);
    const outcomes = await ch.acks('T');
    expect(outcomeOf(outcomes, other)).toMatchObject({
      result: 'conflict',
      reason: expect.stringMatching(/^Contradiction: this ACRF says rejected, as the ACRF already applied to .* did, but not for the same reasons: it gives 1 error id that one did not give\./),
    });
    expect(outcomeOf(outcomes, same)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/^Duplicate: the ACRF of .* saying the same \(rejected\)\.$/) });
  });
});
