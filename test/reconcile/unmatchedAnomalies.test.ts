import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { maskInss } from '../../src/domain/inss.js';
import { collectChunks } from '../../src/reconcile/chunks.js';
import type { RecordIssue, UnmatchedAnomaly } from '../../src/reconcile/delivery.js';
import { buildReport, readReportHead } from '../../src/reconcile/report.js';
import { readReportLists } from '../../src/reconcile/runLists.js';
import { reportToCsv } from '../../src/reconcile/reportCsv.js';
import { reportPage } from '../../src/reconcile/reportPage.js';
import { reportChunks } from '../../src/reconcile/reportStream.js';
import { traceToHtml } from '../../src/trace/traceHtml.js';
import { traceRecord } from '../../src/trace/traceRecord.js';
import { traceToText } from '../../src/trace/traceText.js';
import { applyTestNoti, largestFileSentAt } from '../helpers/applyTestReply.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';

const AT = new Date('2025-01-11T10:00:00Z');
const NOW = new Date('2025-01-12T12:00:00Z');
// A person the file does not hold, and an AttestationID it does not hold for a person it does.
const STRANGER = '00000000097';

describe('a file its NOTI rejects with anomalies that name only records it does not hold', () => {
  // Before, each record of the file was listed rejected with empty codes (the codes of a rejected
  // file were its ACRF's error ids and the NOTI's anomalies about the whole file, and these name a
  // record), the trace showed "NOTI rejected" and no reason, and the report only counted them.
  let fx: FlowFixture;
  let file: string;
  let keys: string[];
  let inss: string;
  const streamed = async (format: string): Promise<string> => {
    const head = await readReportHead(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW);
    return collectChunks(reportChunks(format, head, readReportLists(fx.db.pool, head.runId)));
  };
  const listed = (): UnmatchedAnomaly[] => [
    { file, reply: 'FO.NOTI.UNMATCHED', code: '00042', blocking: true, inss: maskInss(STRANGER), attestationId: null },
    { file, reply: 'FO.NOTI.UNMATCHED', code: '00077', blocking: false, inss: maskInss(inss), attestationId: '999999999' },
  ];

  beforeAll(async () => {
    fx = await createFlowFixture();
    const { runId } = await fx.run(contributionSlips, '2024-Q1');
    const { name, records } = await largestFileSentAt(fx.db.pool, runId, AT);
    file = name;
    expect(records.length).toBeGreaterThan(1);
    keys = records.map((r) => r.source_key);
    inss = records[0]!.record_key;
    await applyTestNoti(fx.db.pool, 'UNMATCHED', AT, file, 'rejected', [
      { inss: STRANGER, attestationId: null, blocking: true, code: '00042', description: `unknown person ${STRANGER}` },
      { inss, attestationId: '999999999', blocking: false, code: '00077', description: 'attestation unknown' },
    ]);
  });
  afterAll(async () => fx?.close());

  const ofFile = (issues: readonly (Pick<RecordIssue, 'sourceKey' | 'file' | 'codes'> & { state: string })[]): string[] =>
    issues
      .filter((i) => i.file === file)
      .map((i) => `${i.sourceKey} ${i.state} ${i.codes}`)
      .sort();
  const wanted = (): string[] => keys.map((k) => `${k} rejected 00042,00077`).sort();

  it('lists each record of the file with the anomalies as its codes, and the anomalies themselves, in the JSON report', async () => {
    for (const report of [JSON.parse(await streamed('json')) as { delivery: { recordIssues: RecordIssue[]; unmatchedAnomalies: number; unmatchedAnomalyList: UnmatchedAnomaly[] } }]) {
      expect(ofFile(report.delivery.recordIssues)).toEqual(wanted());
      expect(report.delivery.unmatchedAnomalies).toBe(2);
      expect(report.delivery.unmatchedAnomalyList).toEqual(listed());
    }
    const built = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW);
    expect(ofFile(built.delivery.recordIssues)).toEqual(wanted());
    expect(built.delivery.unmatchedAnomalyList).toEqual(listed());
    expect(JSON.stringify(built)).not.toContain(STRANGER);
  });

  it('in the CSV report, streamed or built in memory alike', async () => {
    const csv = await streamed('csv');
    expect(await reportToCsv(await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW))).toBe(csv);
    const rows: string[][] = parse(csv, { relax_column_count: true });
    const mine = rows.filter((r) => r[0] === 'record' && r[3]!.startsWith(`${file} `)).map((r) => ({ sourceKey: r[1]!, state: r[2]!, file, codes: r[3]!.slice(file.length + 1) }));
    expect(ofFile(mine)).toEqual(wanted());
    expect(rows.filter((r) => r[0] === 'unmatched-anomaly')).toEqual([
      ['unmatched-anomaly', file, '00042', `FO.NOTI.UNMATCHED; blocking; INSS ${maskInss(STRANGER)}`],
      ['unmatched-anomaly', file, '00077', `FO.NOTI.UNMATCHED; not blocking; INSS ${maskInss(inss)}; AttestationID 999999999`],
    ]);
    expect(csv).not.toContain(STRANGER);
  });

  it('in the text and HTML reports and the status server’s report page', async () => {
    const text = await streamed('text');
    for (const key of keys) expect(text).toContain(`    ${'rejected'.padEnd(24)} ${key} 00042,00077\n`);
    expect(text).toContain(`  anomaly matching no record: ${file} 00042 (FO.NOTI.UNMATCHED; blocking; INSS ${maskInss(STRANGER)})\n`);
    for (const html of [await streamed('html'), await reportPage(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW, 48)]) {
      const issues = /<table id="issues">([\s\S]*?)<\/table>/.exec(html)![1]!;
      for (const key of keys) expect(issues).toMatch(new RegExp(`${key}(</a>)?</td><td>rejected</td><td>${file}</td><td>00042,00077</td>`));
      const unmatched = /<table id="unmatched">([\s\S]*?)<\/table>/.exec(html)![1]!;
      expect(unmatched).toContain(`<td>${file}</td><td>FO.NOTI.UNMATCHED</td><td>00042</td><td>blocking</td><td>${maskInss(STRANGER)}</td><td></td>`);
      expect(unmatched).toContain(`<td>${file}</td><td>FO.NOTI.UNMATCHED</td><td>00077</td><td>not blocking</td><td>${maskInss(inss)}</td><td>999999999</td>`);
      expect(html).not.toContain(STRANGER);
    }
  });

  it("shows the anomalies in each record's trace, masked", async () => {
    const sources = { ledger: fx.db.pool, dossier: fx.db.pool };
    for (const key of keys) {
      const t = await traceRecord(sources, key, { now: AT });
      const e = t.entries.find((x) => x.file === file)!;
      expect(e.finalState).toBe('rejected');
      expect(e.unmatchedAnomalies).toEqual([
        { reply: 'FO.NOTI.UNMATCHED', code: '00042', blocking: true, description: `unknown person ${maskInss(STRANGER)}`, inss: maskInss(STRANGER), attestationId: null },
        { reply: 'FO.NOTI.UNMATCHED', code: '00077', blocking: false, description: 'attestation unknown', inss: maskInss(inss), attestationId: '999999999' },
      ]);
      const text = traceToText(t);
      expect(text).toContain(`    anomaly naming a record the file does not hold (INSS ${maskInss(STRANGER)}) 00042 (blocking) in FO.NOTI.UNMATCHED: unknown person ${maskInss(STRANGER)}\n`);
      expect(text).toContain(`    anomaly naming a record the file does not hold (INSS ${maskInss(inss)}, AttestationID 999999999) 00077 in FO.NOTI.UNMATCHED: attestation unknown\n`);
      expect(traceToHtml(t)).toContain(`not in the file: 00042 blocking: unknown person ${maskInss(STRANGER)}`);
      expect(text + traceToHtml(t)).not.toContain(STRANGER);
    }
  });
});
