import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { collectChunks } from '../../src/reconcile/chunks.js';
import type { RecordIssue } from '../../src/reconcile/delivery.js';
import { readReportHead } from '../../src/reconcile/report.js';
import { readReportLists } from '../../src/reconcile/runLists.js';
import { reportPage } from '../../src/reconcile/reportPage.js';
import { reportChunks } from '../../src/reconcile/reportStream.js';
import { applyTestNoti, largestFileSentAt } from '../helpers/applyTestReply.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';

/** A listed record as a format shows it. */
type Listed = Pick<RecordIssue, 'sourceKey' | 'file' | 'codes'> & { state: string };

const AT = new Date('2025-01-11T10:00:00Z');
const NOW = new Date('2025-01-12T12:00:00Z');

describe('a file its NOTI rejects whole: every record of it carries the reason in the report', () => {
  let fx: FlowFixture;
  let file: string;
  // The dossier key of each record of the rejected file, and its codes in the report.
  const expected = new Map<string, string>();
  const streamed = async (format: string): Promise<string> => {
    const head = await readReportHead(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW);
    return collectChunks(reportChunks(format, head, readReportLists(fx.db.pool, head.runId)));
  };

  beforeAll(async () => {
    fx = await createFlowFixture();
    const { runId } = await fx.run(contributionSlips, '2024-Q1');
    const { name, records } = await largestFileSentAt(fx.db.pool, runId, AT);
    file = name;
    expect(records.length).toBeGreaterThan(1);
    // A positive ACRF, then a NOTI that rejects the file whole: two anomalies about the file (no
    // INSS, no AttestationID), a warning about its first record, and one about a person we did not send.
    await applyTestNoti(fx.db.pool, 'REJECTED', AT, file, 'rejected', [
      { inss: null, attestationId: null, blocking: true, code: '00912', description: 'the file holds two declarations of the same quarter' },
      { inss: records[0]!.record_key, attestationId: records[0]!.attestation_id, blocking: false, code: '00107', description: 'address unknown' },
      { inss: null, attestationId: null, blocking: true, code: '00901', description: 'sender not authorised for this flow' },
      { inss: '00000000097', attestationId: null, blocking: true, code: '00042', description: 'unknown person' },
    ]);
    for (const [i, r] of records.entries()) expected.set(r.source_key, i === 0 ? '00107,00901,00912' : '00901,00912');
  });
  afterAll(async () => fx?.close());

  const ofFile = (issues: readonly Listed[]): [string, string, string][] =>
    issues
      .filter((i) => i.file === file)
      .map((i): [string, string, string] => [i.sourceKey, i.state, i.codes])
      .sort(([a], [b]) => (a < b ? -1 : 1));
  const wanted = (): [string, string, string][] => [...expected].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, codes]) => [k, 'rejected', codes]);

  it('in the JSON report', async () => {
    const report = JSON.parse(await streamed('json')) as { delivery: { files: { name: string; noti: string }[]; recordIssues: RecordIssue[] } };
    expect(report.delivery.files.find((x) => x.name === file)?.noti).toBe('rejected');
    expect(ofFile(report.delivery.recordIssues)).toEqual(wanted());
  });

  it('in the CSV report', async () => {
    const rows: string[][] = parse(await streamed('csv'), { relax_column_count: true });
    const mine = rows.filter((r) => r[0] === 'record' && r[3]!.startsWith(`${file} `)).map((r) => ({ sourceKey: r[1]!, state: r[2]!, file, codes: r[3]!.slice(file.length + 1) }));
    expect(ofFile(mine)).toEqual(wanted());
  });

  it('in the text report', async () => {
    const text = await streamed('text');
    for (const [key, codes] of expected) expect(text).toContain(`    ${'rejected'.padEnd(24)} ${key} ${codes}\n`);
  });

  it('in the HTML report and the status server’s report page', async () => {
    for (const html of [await streamed('html'), await reportPage(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW, 48)]) {
      const table = /<table id="issues">([\s\S]*?)<\/table>/.exec(html)![1]!;
      const cells = [...table.matchAll(/<tr>((?:<td>[\s\S]*?<\/td>)+)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '')));
      const mine = cells.filter((c) => c[2] === file).map((c) => ({ sourceKey: c[0]!, state: c[1]!, file, codes: c[3]! }));
      expect(ofFile(mine)).toEqual(wanted());
    }
  });
});
