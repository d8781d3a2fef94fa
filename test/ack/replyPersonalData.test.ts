import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import type { ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { withTransaction } from '../../src/db/database.js';
import { collectChunks } from '../../src/reconcile/chunks.js';
import { readReportHead } from '../../src/reconcile/report.js';
import { readReportLists } from '../../src/reconcile/runLists.js';
import { reportChunks } from '../../src/reconcile/reportStream.js';
import { zipOne } from '../../src/simulate/zipOne.js';
import type { Trace, TraceEntry } from '../../src/trace/readTrace.js';
import { traceToHtml } from '../../src/trace/traceHtml.js';
import { traceRecord } from '../../src/trace/traceRecord.js';
import { traceToText } from '../../src/trace/traceText.js';
import { applyTestNoti, applyTestReply, emittedRecords } from '../helpers/applyTestReply.js';
import { acrfBody, CHANNEL_CLOCK, createReplyChannel, type ReplyChannel } from '../helpers/replyChannel.js';

/** A person's number no record of the dossier has: the replies carry it where no INSS belongs. */
const INSS = '93051822361';
const outcomeOf = (outcomes: ReplyOutcome[], name: string): ReplyOutcome | undefined => outcomes.find((o) => o.name === name);

/** A zip of one entry whose name is changed, in place, to one yazl refuses to write (the same length). */
async function zipNamed(entry: string, body: string): Promise<Buffer> {
  const safe = 'a'.repeat(entry.length - INSS.length - 4) + `${INSS}.xml`;
  const zip = await zipOne(safe, body);
  return Buffer.from(zip.toString('latin1').replaceAll(safe, entry), 'latin1');
}

/**
 * docs/replies.md: "a reason never repeats a value of the reply". A person's number in a tag, an
 * attribute, a zip entry's name, an anomaly's code or an ACRF's error id reaches no outcome, no
 * ledger row, no report (JSON, CSV, HTML, text) and no trace.
 */
describe("a person's number where a reply holds no INSS (real sshd, real PostgreSQL)", () => {
  let ch: ReplyChannel;
  beforeAll(async () => {
    ch = await createReplyChannel();
  });
  afterAll(async () => ch?.close());

  it.each([
    ['a truncated document ending in a tag', (file: string) => `${acrfBody(file, true).replace('</Form></ACRF>', '')}<Ref${INSS}>`, 'FO', /is not well-formed XML \(1:\d+: unclosed tag\)/],
    ['an attribute given twice', (file: string) => acrfBody(file, true).replace('<ACRF>', `<ACRF a${INSS}="1" a${INSS}="2">`), 'FO', /is not well-formed XML \(1:\d+: duplicate attribute\)/],
    ['a zip entry in a folder', (file: string) => zipNamed(`sub/${INSS}.xml`, acrfBody(file, true)), 'CO', /holds an entry whose name \(19 characters\) has a path in it/],
    ['a zip entry named ../', (file: string) => zipNamed(`../${INSS}.xml`, acrfBody(file, true)), 'CO', /is damaged or unsafe \(invalid relative path\)/],
    ['a zip entry with an absolute name', (file: string) => zipNamed(`/${INSS}.xml`, acrfBody(file, true)), 'CO', /is damaged or unsafe \(absolute path\)/],
  ] as const)('sets aside a reply with %s without repeating the number (outcome and ledger)', async (_what, body, kind, reason) => {
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'ACRF', await body(t.file), kind);
    const outcome = outcomeOf(await ch.acks('T'), name);
    expect(outcome).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(reason) });
    expect(JSON.stringify(outcome)).not.toContain(INSS);
    const row = await ch.fx.db.pool.query('SELECT reason FROM maillon.replies WHERE name = $1', [name]);
    expect(row.rows[0].reason).toMatch(reason);
    expect(row.rows[0].reason).not.toContain(INSS);
  });

  it('masks the number in an anomaly code and an error id: in the ledger, every report format and the trace', async () => {
    // A NOTI whose codes hold the number (one anomaly matched to a record, one matching none)…
    const noti = await ch.runAndSend('T');
    const [record] = await emittedRecords(ch.fx.db.pool, noti.run.runId);
    await ch.putAcrfAndNoti(noti.file, 2, [
      { inss: record!.record_key, blocking: 'B', code: `X-${INSS}` },
      { inss: '00000000097', blocking: 'B', code: `Y-${INSS}` },
    ]);
    // …and an ACRF rejecting a file with the number as its error id.
    const acrf = await ch.runAndSend('T');
    await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(acrf.file, false).replace('E002-REFUSED', INSS));
    const outcomes = await ch.acks('T');
    expect(outcomes.filter((o) => o.result !== 'already-processed').map((o) => o.result)).toEqual(['processed', 'processed', 'processed']);
    expect(await ch.stateOf(acrf.submissionId)).toBe('rejected');

    const stored = await ch.fx.db.pool.query(
      `SELECT (SELECT array_agg(code ORDER BY code) FROM maillon.record_anomalies WHERE run_id = $1) AS codes,
              (SELECT ack_errors FROM maillon.files WHERE run_id = $2) AS errors`,
      [noti.run.runId, acrf.run.runId],
    );
    expect(stored.rows[0]).toEqual({ codes: ['X-93*******61', 'Y-93*******61'], errors: ['93*******61'] });

    for (const t of [noti, acrf]) {
      const head = await readReportHead(ch.fx.db.pool, career, t.period, 'T', CHANNEL_CLOCK.now());
      for (const format of ['json', 'csv', 'html', 'text']) {
        const report = await collectChunks(reportChunks(format, head, readReportLists(ch.fx.db.pool, head.runId)));
        expect(report, `${t.period} ${format}`).toContain('93*******61');
        expect(report, `${t.period} ${format}`).not.toContain(INSS);
      }
    }
    const trace = await traceRecord({ ledger: ch.fx.db.pool, dossier: ch.fx.db.pool }, record!.source_key, { now: CHANNEL_CLOCK.now() });
    for (const shown of [JSON.stringify(trace), traceToText(trace), traceToHtml(trace)]) {
      expect(shown).toContain('X-93*******61');
      expect(shown).not.toContain(INSS);
    }
  });

  it('masks in the trace a code and an error id recorded unmasked (a ledger row from before they were masked on reading)', async () => {
    // Two files (two quarters), each answered by a reply written straight to the ledger, unmasked:
    // an ACRF rejecting the first with the number as its error id, a NOTI on the second whose
    // anomaly code holds it.
    const t = await ch.runAndSend('T');
    const [record] = await emittedRecords(ch.fx.db.pool, t.run.runId);
    await withTransaction(ch.fx.db.pool, async (tx) => {
      await applyTestReply(tx, 'FO.ACRF.OLD-ROW', CHANNEL_CLOCK.now(), { kind: 'ACRF', fileName: t.file, accepted: false, errorIds: [INSS] });
    });
    const t2 = await ch.runAndSend('T');
    const [record2] = await emittedRecords(ch.fx.db.pool, t2.run.runId);
    await applyTestNoti(ch.fx.db.pool, 'OLD-ROW2', CHANNEL_CLOCK.now(), t2.file, 'accepted_with_anomalies', [
      { inss: record2!.record_key, attestationId: null, blocking: true, code: `X-${INSS}`, description: 'old' },
    ]);
    const unmasked = await ch.fx.db.pool.query(
      `SELECT (SELECT ack_errors FROM maillon.files WHERE name = $1) AS errors,
              (SELECT array_agg(code) FROM maillon.record_anomalies WHERE run_id = $2) AS codes`,
      [t.file, t2.run.runId],
    );
    expect(unmasked.rows[0]).toEqual({ errors: [INSS], codes: [`X-${INSS}`] });

    // The same affiliate is in every quarter's file (and earlier tests' replies are in its trail):
    // each value is looked for in the entry of the file its reply answered, not anywhere in the trace.
    const entryOf = async (key: string, file: string): Promise<{ trace: Trace; entry: TraceEntry }> => {
      const trace = await traceRecord({ ledger: ch.fx.db.pool, dossier: ch.fx.db.pool }, key, { now: CHANNEL_CLOCK.now() });
      const entries = trace.entries.filter((e) => e.file === file);
      expect(entries, `${key} in ${file}`).toHaveLength(1);
      return { trace, entry: entries[0]! };
    };
    const rejected = await entryOf(record!.source_key, t.file);
    expect(rejected.entry.ackErrors).toEqual(['93*******61']);
    const flagged = await entryOf(record2!.source_key, t2.file);
    expect(flagged.entry.anomalies.map((a) => a.code)).toEqual(['X-93*******61']);
    // Each rendering shows the masked value in its entry's block or row, and the number nowhere.
    const blockOf = (text: string, file: string): string => text.split(/\n(?= {2}\S)/).find((b) => b.includes(file)) ?? '';
    const rowOf = (html: string, file: string): string => html.split('</tr>').find((r) => r.includes(file)) ?? '';
    expect(blockOf(traceToText(rejected.trace), t.file)).toMatch(/; ACRF \S+ \(93\*{7}61\);/);
    expect(rowOf(traceToHtml(rejected.trace), t.file)).toContain('ACRF errors 93*******61');
    expect(blockOf(traceToText(flagged.trace), t2.file)).toContain('anomaly X-93*******61 (blocking) in FO.NOTI.OLD-ROW2: old');
    expect(rowOf(traceToHtml(flagged.trace), t2.file)).toContain('X-93*******61 blocking: old');
    for (const { trace } of [rejected, flagged]) {
      for (const shown of [JSON.stringify(trace), traceToText(trace), traceToHtml(trace)]) expect(shown).not.toContain(INSS);
    }
  });
});
