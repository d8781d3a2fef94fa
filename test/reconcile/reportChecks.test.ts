import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { buildReport, type Report } from '../../src/reconcile/report.js';
import { reportToHtml } from '../../src/reconcile/reportHtml.js';
import { VERSION_COUNTS_SQL } from '../../src/reconcile/versions.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';

const NOW = new Date('2025-01-10T03:00:00Z');
const failed = (r: Report): string[] => r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

// Review 3: relabelling the only quarantined record of a run 'unchanged' breaks no constraint of
// the ledger; the report kept checking the run's counters against themselves and the lineage's
// total against the run's, and said "Every record is accounted for." over a lost record. The
// report now holds every version's lineage to its run's counters outcome by outcome.
describe("the report's checks hold every version's lineage to its run's counts (career 2024-Q1)", () => {
  let fx: FlowFixture;
  let original: RunResult;
  const report = (): Promise<Report> => buildReport(fx.db.pool, career, '2024-Q1', 'T', NOW);
  const sql = (text: string, params: unknown[] = []): Promise<unknown> => fx.db.pool.query(text, params);
  // Moves a run's quarantined records to another outcome (the reviewer's UPDATE); returns how to put them back.
  const relabel = async (runId: number, to: string): Promise<() => Promise<unknown>> => {
    const moved = await fx.db.pool.query<{ ordinal: number; rule: string; message: string }>(
      `UPDATE maillon.record_outcomes o SET outcome = $2, rule = NULL, message = NULL FROM maillon.record_outcomes b
       WHERE (o.run_id, o.ordinal) = (b.run_id, b.ordinal) AND o.run_id = $1 AND o.outcome = 'quarantined' RETURNING o.ordinal, b.rule, b.message`,
      [runId, to],
    );
    expect(moved.rowCount).toBe(1);
    const [m] = moved.rows;
    return () => sql(`UPDATE maillon.record_outcomes SET outcome = 'quarantined', rule = $3, message = $4 WHERE run_id = $1 AND ordinal = $2`, [runId, m!.ordinal, m!.rule, m!.message]);
  };
  const counters = (runId: number, set: string): Promise<unknown> => sql(`UPDATE maillon.runs SET ${set} WHERE run_id = $1`, [runId]);

  beforeAll(async () => {
    fx = await createFlowFixture();
    original = await fx.run(career, '2024-Q1');
    // Delivered and accepted, so that the report would say every record is accounted for.
    await sql(`UPDATE maillon.submissions SET go_started_at = now(), sent_at = now(), state = 'sent' WHERE run_id = $1`, [original.runId]);
    await sql(`UPDATE maillon.files SET ack_state = 'received', noti_state = 'accepted' WHERE run_id = $1`, [original.runId]);
    await sql(`UPDATE maillon.submissions SET state = 'accepted' WHERE run_id = $1`, [original.runId]);
  });
  afterAll(async () => fx?.close());

  it('fails when a quarantined record is relabelled unchanged in the lineage, naming the run and the numbers', async () => {
    const before = await report();
    expect(before.counts).toEqual({ extracted: 9, emitted: 8, quarantined: 1 });
    expect(before.accountedFor).toBe(true);
    const restore = await relabel(original.runId, 'unchanged');
    try {
      const after = await report();
      expect(after.quarantine).toEqual([]);
      expect(failed(after)).toEqual([
        `quarantine by rule adds up to the quarantined count: 0 listed by rule, 1 quarantined by run ${original.runId}`,
        `lineage of run ${original.runId} matches its counts: run ${original.runId} (original) counted 9 extracted = 8 emitted + 1 quarantined + 0 unchanged; ` +
          `its lineage holds 8 emitted + 0 quarantined + 1 unchanged: 0 quarantined, not 1; 1 unchanged, not 0`,
      ]);
      expect(after.accountedFor).toBe(false);
      expect(await reportToHtml(after)).not.toContain('Every record is accounted for.');
      const env = { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox), MAILLON_ENV: 'T', MAILLON_NOW: NOW.toISOString() };
      const cli = await maillon(['report', 'career', '--period', '2024-Q1'], env);
      expect(cli.code).toBe(10);
      expect(cli.stdout).toContain(`[FAILED] lineage of run ${original.runId} matches its counts`);
    } finally {
      await restore();
    }
  });

  it("fails when a run's counter is changed, even when its counters still add up", async () => {
    await counters(original.runId, 'quarantined = 0, unchanged = 1');
    try {
      const r = await report();
      expect(failed(r)).toEqual([
        `quarantine by rule adds up to the quarantined count: 1 listed by rule, 0 quarantined by run ${original.runId}`,
        `lineage of run ${original.runId} matches its counts: run ${original.runId} (original) counted 9 extracted = 8 emitted + 0 quarantined + 1 unchanged; ` +
          `its lineage holds 8 emitted + 1 quarantined + 0 unchanged: 1 quarantined, not 0; 0 unchanged, not 1`,
      ]);
      expect(r.accountedFor).toBe(false);
    } finally {
      await counters(original.runId, 'quarantined = 1, unchanged = NULL');
    }
    expect((await report()).accountedFor).toBe(true);
  });

  it('checks every version of the period, not only the one it reports', async () => {
    const replacement = await fx.replaceWhole(career, '2024-Q1');
    const clean = await report();
    expect(clean.runId).toBe(replacement.runId);
    expect(failed(clean)).toEqual([]);
    const restore = await relabel(original.runId, 'unchanged');
    try {
      expect(failed(await report())).toEqual([
        `lineage of run ${original.runId} matches its counts: run ${original.runId} (original) counted 9 extracted = 8 emitted + 1 quarantined + 0 unchanged; ` +
          `its lineage holds 8 emitted + 0 quarantined + 1 unchanged: 0 quarantined, not 1; 1 unchanged, not 0`,
      ]);
    } finally {
      await restore();
    }

    // An earlier version's counters that still add up (extracted = emitted + quarantined), one record short of its lineage.
    await counters(original.runId, 'extracted = 8, emitted = 7');
    try {
      expect(failed(await report())).toEqual([
        `lineage of run ${original.runId} matches its counts: run ${original.runId} (original) counted 8 extracted = 7 emitted + 1 quarantined + 0 unchanged; ` +
          `its lineage holds 8 emitted + 1 quarantined + 0 unchanged: 8 emitted, not 7; 9 rows, not 8 (one per extracted or cancelled record)`,
      ]);
    } finally {
      await counters(original.runId, 'extracted = 9, emitted = 8');
    }
    const again = await report();
    expect(failed(again)).toEqual([]);
    expect(again.checks.filter((c) => c.name.startsWith('lineage of run ')).map((c) => c.name)).toEqual([
      `lineage of run ${original.runId} matches its counts`,
      `lineage of run ${replacement.runId} matches its counts`,
    ]);
  });

  it("counts a record under an outcome no run counts as lost, and reads each version's lineage once", async () => {
    await sql(`ALTER TABLE maillon.record_outcomes DROP CONSTRAINT record_outcomes_outcome_check`);
    await relabel(original.runId, 'misplaced');
    const r = await report();
    expect(failed(r)).toEqual([
      `lineage of run ${original.runId} matches its counts: run ${original.runId} (original) counted 9 extracted = 8 emitted + 1 quarantined + 0 unchanged; ` +
        `its lineage holds 8 emitted + 0 quarantined + 0 unchanged + 1 misplaced: 0 quarantined, not 1; 1 misplaced, not 0`,
    ]);

    // Each version's lineage grows to 20,000 more emitted rows, two of which a reply's anomalies name.
    const ids = r.versions.map((v) => v.runId);
    await sql(
      `INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, record_key, file_key, position, attestation_id, record_hash, status)
       SELECT o.run_id, 1000 + g, 'pad-' || g, 'emitted', o.record_key, o.file_key, 1000 + g, o.attestation_id, o.record_hash, o.status
       FROM (SELECT DISTINCT ON (run_id) * FROM maillon.record_outcomes WHERE run_id = ANY($1::bigint[]) AND outcome = 'emitted' ORDER BY run_id, ordinal) o,
            generate_series(1, 20000) g`,
      [ids],
    );
    const reply = await fx.db.pool.query<{ id: string }>(
      `INSERT INTO maillon.replies (server, name, received_at, state, kind, file_name) VALUES ('s', 'FO.NOTI.pad', now(), 'processed', 'NOTI', 'FO.NOTI.pad') RETURNING reply_id AS id`,
    );
    await sql(
      `INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, blocking, code)
       SELECT $1, f.file_id, f.run_id, 1000 + g, false, 'W' FROM maillon.files f, generate_series(1, 2) g WHERE f.run_id = $2`,
      [reply.rows[0]!.id, original.runId],
    );
    await sql('ANALYZE');
    const plan = await fx.db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${VERSION_COUNTS_SQL}`, [ids]);
    const lines = plan.rows.map((x) => x['QUERY PLAN']);
    const reads = lines.filter((l) => /Scan.* on record_outcomes/.test(l)).map((l) => lines[lines.indexOf(l) + 1]!.trim() + ' ' + l.trim());
    // The lineage of every version read in one scan; the records named by an anomaly looked up by
    // key, one probe each (two here), not by a second scan.
    expect(
      reads.filter((l) => !/ordinal = /.test(l)).map((l) => /loops=(\d+)/.exec(l)?.[1]),
      lines.join('\n'),
    ).toEqual(['1']);
    expect(
      reads.filter((l) => /ordinal = /.test(l)).map((l) => /loops=(\d+)/.exec(l)?.[1]),
      lines.join('\n'),
    ).toEqual(['2']);
  });
});
