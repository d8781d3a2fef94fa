import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { buildReport, type Report } from '../../src/reconcile/report.js';
import { reportToCsv } from '../../src/reconcile/reportCsv.js';
import { reportToHtml } from '../../src/reconcile/reportHtml.js';
import { renderedDom } from '../helpers/browser.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';

const cells = (dom: string, tableId: string): string[][] => {
  const table = new RegExp(`<table id="${tableId}">([\\s\\S]*?)</table>`).exec(dom)![1]!;
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<t[dh]>([\s\S]*?)<\/t[dh]>/g)].map((c) => c[1]!));
};

describe('the reconciliation report as HTML and CSV', () => {
  let fx: FlowFixture;
  let report: Report;
  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(contributionSlips, '2024-Q1');
    report = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', new Date('2025-01-10T12:00:00Z'));
  });
  afterAll(async () => fx.close());

  it('renders in headless Chromium (or jsdom without it) and shows the counts of the JSON report', async () => {
    const dir = path.dirname(fx.outbox);
    const file = path.join(dir, 'report.html');
    await fs.writeFile(file, await reportToHtml(report));
    const dom = await renderedDom(file, path.join(dir, 'chromium-profile'));
    const [head, values] = cells(dom, 'counts');
    expect(head).toEqual([
      'extracted',
      'emitted',
      'quarantined',
      'accepted',
      'accepted with anomalies',
      'rejected',
      'pending',
      'cancelled',
      'answered after cancel (may be held)',
      'accepted after reject (may be held)',
    ]);
    const r = report.delivery.records;
    expect(values).toEqual(
      [
        report.counts.extracted,
        report.counts.emitted,
        report.counts.quarantined,
        r.accepted,
        r.acceptedWithAnomalies,
        r.rejected,
        r.pending,
        r.cancelled,
        r.answeredAfterCancel,
        r.acceptedAfterReject,
      ].map(String),
    );
    expect(dom).toContain('<dd id="receivers">in progress (written)</dd>');
    expect(
      cells(dom, 'files')
        .slice(1)
        .map((row) => row[0]),
    ).toEqual(report.files.map((f) => f.name));
    expect(
      cells(dom, 'quarantine')
        .slice(1)
        .map((row) => [row[0], row[1]]),
    ).toEqual(report.quarantine.map((q) => [q.rule, q.sourceKey]));
    expect(dom).not.toContain('Every record is accounted for.');
    expect(dom).toContain(`${report.counts.emitted} record(s) still wait for the receivers' final answer`);
    expect(dom).toContain('<dd id="deadline">2024-04-30 (255 days past)</dd>');
  });

  it('marks a file sent without ACRF after the configured delay as overdue', async () => {
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'sent', go_started_at = '2025-01-01T00:00:00Z', sent_at = '2025-01-01T00:00:00Z' WHERE receiver = 'OA100'`);
    const late = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', new Date('2025-01-10T12:00:00Z'), 48);
    expect(late.overdue).toBe(1);
    expect(late.delivery.files.filter((f) => f.overdue).map((f) => f.name)).toEqual([report.files.find((f) => f.receiver === 'OA100')!.name]);
    const patient = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', new Date('2025-01-10T12:00:00Z'), 24 * 30);
    expect(patient.overdue).toBe(0);
  });

  it('gives the same facts as CSV rows', async () => {
    const csv = await reportToCsv(report);
    expect(csv).toContain(`counts,extracted,${report.counts.extracted},`);
    expect(csv).toContain(`records,pending,${report.delivery.records.pending},`);
    expect(csv).toContain('quarantine,D05,no-insurer,');
    expect(csv).toContain('check,extracted = emitted + quarantined,ok,');
    expect(csv).toContain('receivers,phase,in_progress,');
  });
});
