import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { maskInss } from '../../src/domain/inss.js';
import { buildReport } from '../../src/reconcile/report.js';
import { traceRecord } from '../../src/trace/traceRecord.js';
import { traceToHtml } from '../../src/trace/traceHtml.js';
import { traceToText } from '../../src/trace/traceText.js';
import { emittedRecords } from '../helpers/applyTestReply.js';
import { CHANNEL_CLOCK, createReplyChannel, type ReplyChannel } from '../helpers/replyChannel.js';

// A NOTI often names a record by its INSS, but not always: by its AttestationID only, or by its
// AttestationID with the person's current INSS (a BIS number replaced since). Before, such an
// anomaly matched no record: a record the receiver refused was reported accepted, every check green.
describe('an anomaly that names its record by AttestationID (real sshd, real PostgreSQL)', () => {
  let ch: ReplyChannel;
  let period: string;
  let refused: { source_key: string; record_key: string };
  let warned: { source_key: string; record_key: string };
  const CURRENT = '00000000097'; // the receiver's number for the warned person, not the one we sent

  beforeAll(async () => {
    ch = await createReplyChannel();
    const t = await ch.runAndSend('T');
    period = t.period;
    const records = await emittedRecords(ch.fx.db.pool, t.run.runId);
    expect(records.length).toBeGreaterThan(2);
    const [a, b] = [records[1]!, records[2]!];
    refused = a;
    warned = b;
    await ch.putAcrfAndNoti(t.file, 2, [
      { attestationId: a.attestation_id, blocking: 'B', code: 'E101' },
      { inss: CURRENT, attestationId: b.attestation_id, blocking: 'N', code: 'N202' },
    ]);
    expect((await ch.acks('T')).map((o) => o.result)).toEqual(['processed', 'processed']);
  });
  afterAll(async () => ch?.close());

  it('refuses the record it names: counted rejected, not unmatched; the other counted with anomalies', async () => {
    const r = await buildReport(ch.fx.db.pool, career, period, 'T', CHANNEL_CLOCK.now());
    expect(r.delivery.unmatchedAnomalies).toBe(0);
    expect(r.delivery.records).toMatchObject({ rejected: 1, acceptedWithAnomalies: 1 });
    expect(r.delivery.recordIssues.map((i) => `${i.sourceKey} ${i.state} ${i.codes}`).sort()).toEqual(
      [`${refused.source_key} rejected E101`, `${warned.source_key} accepted_with_anomalies N202`].sort(),
    );
  });

  it('traces the refused record as rejected, and shows the other INSS the receiver gave, masked', async () => {
    const sources = { ledger: ch.fx.db.pool, dossier: ch.fx.db.pool };
    const t1 = await traceRecord(sources, refused.source_key, { now: CHANNEL_CLOCK.now() });
    expect(t1.entries.find((e) => e.period === period)!).toMatchObject({ finalState: 'rejected', anomalies: [{ code: 'E101', blocking: true }] });
    const t2 = await traceRecord(sources, warned.source_key, { now: CHANNEL_CLOCK.now() });
    const e2 = t2.entries.find((e) => e.period === period)!;
    expect(e2).toMatchObject({ finalState: 'accepted_with_anomalies', anomalies: [{ code: 'N202', otherInss: maskInss(CURRENT) }] });
    expect(traceToText(t2)).toContain(`N202 in FO.NOTI.`);
    expect(traceToText(t2)).toContain(`(named by its AttestationID, with INSS ${maskInss(CURRENT)})`);
    expect(traceToHtml(t2)).toContain(`N202 (named by its AttestationID, with INSS ${maskInss(CURRENT)})`);
    expect(traceToText(t2) + traceToHtml(t2)).not.toContain(CURRENT);
  });
});
