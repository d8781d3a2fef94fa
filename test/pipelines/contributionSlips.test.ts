import fs from 'node:fs/promises';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { runPipeline, type RunResult } from '../../src/engine/runPipeline.js';
import { parsePeriod } from '../../src/period/period.js';
import { buildReport } from '../../src/reconcile/report.js';
import { runDeps } from '../helpers/runHarness.js';
import { createFlowFixture, type FlowFixture, importEdited, invertedAffiliationsFixture, outcomeOf, outcomesByPeriod, straddlingFixture } from '../helpers/flowFixture.js';
import { expectGolden, xmllint } from '../helpers/golden.js';

describe('contribution-slips on the 2024 fixture (2024-Q1, leap year)', () => {
  let fx: FlowFixture;
  let result: RunResult;
  beforeAll(async () => {
    fx = await createFlowFixture();
    result = await fx.run(contributionSlips, '2024-Q1');
  });
  afterAll(async () => fx.close());

  it('writes one file per insurer, equal to the golden files and valid against the XSD', async () => {
    expect(result.files.map((f) => f.receiver)).toEqual(['OA100', 'OA200', 'OA400', 'OA500', 'OA600', 'OA900']);
    await expectGolden('contribution-slips', result.files);
    for (const f of result.files) await xmllint(f.path, 'contribution-slips/v1.xsd');
  });

  it('routes by the insurer valid on the last day, else the latest overlapping one', async () => {
    const parser = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'Attestation' });
    const slips = new Map<string, Record<string, any>>();
    for (const f of result.files) {
      for (const a of parser.parse(await fs.readFile(f.path, 'utf8')).BONC.Attestation) slips.set(a.INSS, { ...a, receiver: f.receiver });
    }
    // Change of insurer on the quarter's last day (300 → 500), category change inside the quarter.
    expect(slips.get('03051212332')).toMatchObject({ receiver: 'OA500', InsurerCode: '500', Category: 'COM', Contribution: { Due: '62000', Paid: '50000', PaidInFull: 'false' } });
    // Affiliation ended in February: none valid on 31 March, the latest overlapping one counts.
    expect(slips.get('70010145522')).toMatchObject({ receiver: 'OA200', Category: 'MAI', Contribution: { Due: '87171', Paid: '0', PaidInFull: 'false' } });
    // Paid on the leap day.
    expect(slips.get('85073003328')).toMatchObject({ receiver: 'OA100', Contribution: { PaidInFull: 'true', PaidInFullDate: '2024-02-29' } });
    // Abroad, overpaid then refunded; activity ended on 31 January (assimilation afterwards does not count).
    expect(slips.get('78451823415')).toMatchObject({ receiver: 'OA600', Category: 'COM', Contribution: { Due: '23412', Paid: '23412', PaidInFullDate: '2024-01-03' } });
    // Activities starting the day after the quarter or ending the day before are not in it.
    expect(slips.has('92081713384')).toBe(false);
    expect(slips.has('60061508786')).toBe(false);
  });

  it('quarantines no-insurer and a bad INSS, and accounts for every record', async () => {
    expect(result.counts).toEqual({ extracted: 9, emitted: 7, quarantined: 2 });
    const report = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine.map((q) => [q.rule, q.sourceKey])).toEqual([
      ['inss-check-digit', 'D08'],
      ['no-insurer', 'D05'],
    ]);
    expect(report.checks.every((c) => c.ok)).toBe(true);
  });
});

describe('contribution-slips with an activity whose dates straddle quarters the wrong way (D10: 2024-08-10 → 2024-03-01)', () => {
  // As written it overlaps no quarter (it starts after Q1 and Q2 end, it ends before Q3 starts), so
  // D10's slip was neither sent nor quarantined anywhere. Read in either order its dates span
  // 2024-Q1 to 2024-Q3: there the slip is quarantined. D10's coherent activity ends 2023-12-31.
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await straddlingFixture();
  });
  afterAll(async () => fx.close());

  it('quarantines the slip as period-incoherent in every quarter its dates span, and only there', async () => {
    const outcomes = await outcomesByPeriod(fx, contributionSlips, ['2023-Q4', '2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4'], 'D10');
    expect(outcomes).toEqual({ '2023-Q4': 'emitted', '2024-Q1': 'period-incoherent', '2024-Q2': 'period-incoherent', '2024-Q3': 'period-incoherent', '2024-Q4': 'absent' });
    const report = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine).toContainEqual({ rule: 'period-incoherent', sourceKey: 'D10', message: 'a period ends (2024-03-01) before it starts (2024-08-10); correct the dates in the dossier' });
    expect(report.checks.every((c) => c.ok)).toBe(true);
  });
});

describe('contribution-slips with mutual insurer affiliations that end before they start', () => {
  // Before, the slip went on as if the affiliation were not there: D06's (2024-08-10 → 2024-03-01)
  // overlaps no quarter as written, and the slips went to 400 although, read the other way, 300 is
  // D06's insurer on 31 March; D05's (within 2024-Q1, its only one) was the latest overlapping one,
  // and its slip went to OA500. Read in either order, such an affiliation reaches into every quarter
  // from its end to its start: there the slip is quarantined, naming the affiliation.
  let fx: FlowFixture;
  const periods = ['2023-Q4', '2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4'];
  const outcomes: Record<string, Record<string, string>> = { D06: {}, D05: {}, D02: {} };
  beforeAll(async () => {
    fx = await invertedAffiliationsFixture();
    for (const period of periods) {
      const run = await fx.run(contributionSlips, period);
      for (const key of Object.keys(outcomes)) outcomes[key]![period] = await outcomeOf(fx, run, key);
    }
  });
  afterAll(async () => fx.close());

  it('quarantines the slip as period-incoherent in every quarter the affiliation spans, and only there', () => {
    expect(outcomes['D06']).toEqual({ '2023-Q4': 'emitted', '2024-Q1': 'period-incoherent', '2024-Q2': 'period-incoherent', '2024-Q3': 'period-incoherent', '2024-Q4': 'emitted' });
    expect(outcomes['D05']).toEqual({ '2023-Q4': 'no-insurer', '2024-Q1': 'period-incoherent', '2024-Q2': 'no-insurer', '2024-Q3': 'no-insurer', '2024-Q4': 'no-insurer' });
    // D02's activity ends in January 2024: its only slip with the affiliation is 2024-Q1's.
    expect(outcomes['D02']).toEqual({ '2023-Q4': 'emitted', '2024-Q1': 'period-incoherent', '2024-Q2': 'absent', '2024-Q3': 'absent', '2024-Q4': 'absent' });
  });

  it('names the affiliation in the report, and accounts for every record', async () => {
    const report = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine.filter((q) => q.rule === 'period-incoherent')).toEqual([
      { rule: 'period-incoherent', sourceKey: 'D02', message: 'the mutual insurer affiliation of D02 (insurer 300) ends (2024-03-05) before it starts (2024-03-20); correct the dates in the dossier' },
      { rule: 'period-incoherent', sourceKey: 'D05', message: 'the mutual insurer affiliation of D05 (insurer 500) ends (2024-02-10) before it starts (2024-02-20); correct the dates in the dossier' },
      { rule: 'period-incoherent', sourceKey: 'D06', message: 'the mutual insurer affiliation of D06 (insurer 300) ends (2024-03-01) before it starts (2024-08-10); correct the dates in the dossier' },
    ]);
    expect(report.counts).toEqual({ extracted: 9, emitted: 5, quarantined: 4 });
    expect(report.checks.every((c) => c.ok)).toBe(true);
  });
});

/** D01 (85073003328) was with 100 all along; the dossier now says it joined 300 on 1 March 2024. */
const D01_JOINS_300 = (text: string): string => text.replace('D01,100,2000-01-01,\n', 'D01,100,2000-01-01,2024-02-29\nD01,300,2024-03-01,\n');

describe('contribution-slips rerun after an affiliate changed mutual insurer (review finding 2)', () => {
  const NOW = '2025-01-10T02:00:00+01:00';
  const parser = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'Attestation' });
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(contributionSlips, '2024-Q1');
    await importEdited(fx, 'moved', { 'mutuality_affiliations.csv': D01_JOINS_300 });
  });
  afterAll(async () => fx.close());

  it('cancels the slip at OA100 and sends OA300 an original under a new AttestationID', async () => {
    const request = { pipeline: contributionSlips, period: parsePeriod('2024-Q1'), environment: 'T' as const, sender: '012345', asOf: new Date(NOW) };
    const fix = await runPipeline(runDeps(fx.db.pool, fx.outbox, NOW), { ...request, dryRun: false, correction: { reason: 'insurer corrected', full: false } });
    expect(fix.plan).toMatchObject({ added: ['D01'], changed: [], vanished: ['D01'], moved: ['D01 (OA100 → OA300)'] });
    const byReceiver = new Map<string, any[]>();
    for (const f of fix.files) byReceiver.set(f.receiver, parser.parse(await fs.readFile(f.path, 'utf8')).BONC.Attestation);
    expect([...byReceiver.keys()].sort()).toEqual(['OA100', 'OA300']);
    const cancelled = byReceiver.get('OA100')!;
    const sent = byReceiver.get('OA300')!;
    expect(cancelled).toMatchObject([{ AttestationIdentification: { AttestationStatus: '1' }, INSS: '85073003328', InsurerCode: '100' }]);
    expect(sent).toMatchObject([{ AttestationIdentification: { AttestationStatus: '0' }, INSS: '85073003328', InsurerCode: '300' }]);
    expect(sent[0].AttestationIdentification.AttestationID).not.toBe(cancelled[0].AttestationIdentification.AttestationID);
    for (const f of fix.files) await xmllint(f.path, 'contribution-slips/v1.xsd');
    const report = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });
});

describe('contribution-slips rerun after a move whose cancellation at the old receiver did not take (review-merge finding 1)', () => {
  const NOW = '2025-01-10T02:00:00+01:00';
  const parser = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'Attestation' });
  const request = { pipeline: contributionSlips, period: parsePeriod('2024-Q1'), environment: 'T' as const, sender: '012345', asOf: new Date(NOW) };

  /** D01 moved OA100 → OA300 by a rerun, then `undo` keeps OA100's cancellation from taking; returns the fixture and that rerun. */
  async function movedButStillAtOA100(undo: (fx: FlowFixture, run: RunResult) => Promise<void>): Promise<{ fx: FlowFixture; move: RunResult }> {
    const fx = await createFlowFixture();
    await fx.run(contributionSlips, '2024-Q1');
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'sent', go_started_at = now(), sent_at = now()`);
    await importEdited(fx, 'moved', { 'mutuality_affiliations.csv': D01_JOINS_300 });
    const move = await runPipeline(runDeps(fx.db.pool, fx.outbox, NOW), { ...request, dryRun: false, correction: { reason: 'insurer corrected', full: false } });
    expect(move.plan).toMatchObject({ added: ['D01'], vanished: ['D01'], moved: ['D01 (OA100 → OA300)'] });
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'sent', go_started_at = now(), sent_at = now() WHERE run_id = $1`, [move.runId]);
    await undo(fx, move);
    return { fx, move };
  }

  /** The rerun cancels D01 at OA100 again, under the id OA100 holds, sends OA300 nothing, and a further rerun is identical. */
  async function expectCancelledAgain(fx: FlowFixture): Promise<void> {
    const first = await fx.db.pool.query(
      `SELECT o.attestation_id::text AS id FROM maillon.record_outcomes o JOIN maillon.runs r ON r.run_id = o.run_id
        WHERE o.source_key = 'D01' AND r.kind = 'original' AND r.period = '2024-Q1'`,
    );
    const again = await runPipeline(runDeps(fx.db.pool, fx.outbox, NOW), { ...request, dryRun: false, correction: { reason: 'cancel at OA100 again', full: false } });
    expect(again.plan).toMatchObject({ added: [], changed: [], vanished: ['D01'], moved: ['D01 (OA100 → OA300)'], kept: [] });
    expect(again.counts).toMatchObject({ cancelled: 1, emitted: 1 });
    expect(again.counts.extracted + again.counts.cancelled!).toBe(again.counts.emitted + again.counts.quarantined + again.counts.unchanged!);
    expect(again.files.map((f) => f.receiver)).toEqual(['OA100']);
    const [cancelled] = again.files;
    expect(parser.parse(await fs.readFile(cancelled!.path, 'utf8')).BONC.Attestation).toMatchObject([
      { AttestationIdentification: { AttestationStatus: '1', AttestationID: first.rows[0].id }, INSS: '85073003328', InsurerCode: '100' },
    ]);
    await xmllint(cancelled!.path, 'contribution-slips/v1.xsd');
    const report = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'sent', go_started_at = now(), sent_at = now() WHERE run_id = $1`, [again.runId]);
    const identical = await runPipeline(runDeps(fx.db.pool, fx.outbox, NOW), { ...request, dryRun: true, correction: { reason: 'nothing left', full: false } });
    expect(identical.plan).toMatchObject({ added: [], changed: [], vanished: [], moved: [], kept: [] });
    expect(identical.counts).toMatchObject({ emitted: 0 });
  }

  it('cancels it at OA100 again when OA100 rejected the file that cancelled it', async () => {
    const { fx } = await movedButStillAtOA100(async ({ db }, move) => {
      await db.pool.query(`UPDATE maillon.files SET ack_state = 'rejected', ack_errors = '{E01}' WHERE run_id = $1 AND receiver = 'OA100'`, [move.runId]);
      await db.pool.query(`UPDATE maillon.submissions SET state = 'rejected' WHERE run_id = $1 AND receiver = 'OA100'`, [move.runId]);
    });
    try {
      await expectCancelledAgain(fx);
    } finally {
      await fx.close();
    }
  });

  it('cancels it at OA100 again when a blocking anomaly refused the cancellation', async () => {
    const { fx } = await movedButStillAtOA100(async ({ db }, move) => {
      const row = await db.pool.query(
        `SELECT o.ordinal, f.file_id, f.submission_id FROM maillon.record_outcomes o JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
          WHERE o.run_id = $1 AND o.source_key = 'D01' AND o.status = 1`,
        [move.runId],
      );
      const { ordinal, file_id, submission_id } = row.rows[0];
      const reply = await db.pool.query(
        `INSERT INTO maillon.replies (server, name, received_at, state, kind, file_name) VALUES ('s', 'noti-1', now(), 'processed', 'NOTI', 'noti-1') RETURNING reply_id`,
      );
      await db.pool.query(`INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, blocking, code) VALUES ($1, $2, $3, $4, true, 'B1')`, [
        reply.rows[0].reply_id,
        file_id,
        move.runId,
        ordinal,
      ]);
      await db.pool.query(`UPDATE maillon.submissions SET state = 'accepted_with_anomalies' WHERE submission_id = $1`, [submission_id]);
    });
    try {
      await expectCancelledAgain(fx);
    } finally {
      await fx.close();
    }
  });
});
