/**
 * `--trace`: after the runs, `maillon trace` of one affiliate (by dossier key and by INSS) over
 * the lineage of a year: each quarterly flow's run is copied into the three quarters before it
 * (runs marked started_by 'bench-copy', lineage rows copied by SQL, files not copied), so that the
 * ledger holds four quarterly runs of each quarterly flow beside the yearly and monthly ones
 * (about 25 million lineage rows at 1.3M affiliates). Prints each trace's own time (its queries,
 * in this process, best of 3), the `maillon trace` process's wall time and peak RSS, and the
 * target: a trace in under a second.
 */
import { createPool } from '../src/db/database.js';
import { traceRecord } from '../src/trace/traceRecord.js';
import { fmt, maillon, psql, settle, type Step } from './common.js';

/** The run of a flow that the bench made. */
export interface BenchRun {
  flow: string;
  period: string;
}

/** What --trace measured. */
export interface TraceMeasures {
  lineageRows: number;
  byKey: Step;
  byInss: Step;
  /** The trace itself (its queries, no process start), best of 3, seconds. */
  queryKey: number;
  queryInss: number;
}

/** The best of three timings of a trace in this process: the queries alone, no process start. */
async function bestTrace(url: string, text: string): Promise<number> {
  const pool = createPool(url, 2);
  try {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint();
      await traceRecord({ ledger: pool, dossier: pool }, text, { now: new Date() });
      times.push(Number(process.hrtime.bigint() - started) / 1e9);
    }
    return Math.min(...times);
  } finally {
    await pool.end();
  }
}

const QUARTER = /^(\d{4})-Q([1-4])$/;

/** The three quarters before a quarter key, newest first. */
function quartersBefore(key: string): string[] {
  const m = QUARTER.exec(key)!;
  let year = Number(m[1]);
  let q = Number(m[2]);
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    q -= 1;
    if (q === 0) [year, q] = [year - 1, 4];
    out.push(`${year}-Q${q}`);
  }
  return out;
}

/** Copies a run and its lineage into another period; returns the new run's id. */
function copyRun(url: string, flow: string, from: string, to: string): void {
  psql(
    url,
    `
    WITH src AS (SELECT * FROM maillon.runs WHERE flow = '${flow}' AND period = '${from}' AND NOT dry_run AND state = 'succeeded' ORDER BY run_id DESC LIMIT 1),
    copy AS (
      INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, finished_at, extracted, emitted, quarantined, started_by, host, pid, kind)
      SELECT flow, '${to}', environment, as_of, dry_run, state, started_at, finished_at, extracted, emitted, quarantined, 'bench-copy', host, pid, kind FROM src
      RETURNING run_id)
    INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, record_key, file_key, position, attestation_id, record_hash, rule, message, status, content_offset, content_bytes)
    SELECT copy.run_id, o.ordinal, o.source_key, o.outcome, o.record_key, o.file_key, o.position, o.attestation_id, o.record_hash, o.rule, o.message, o.status, o.content_offset, o.content_bytes
    FROM src JOIN maillon.record_outcomes o ON o.run_id = src.run_id CROSS JOIN copy`,
  );
}

/** Builds a year of lineage, then times two traces of an affiliate present in every flow. */
export async function benchTrace(url: string, env: Record<string, string>, runs: readonly BenchRun[]): Promise<TraceMeasures> {
  for (const r of runs.filter((x) => QUARTER.test(x.period))) for (const to of quartersBefore(r.period)) copyRun(url, r.flow, r.period, to);
  psql(url, 'ANALYZE maillon.record_outcomes');
  const lineageRows = Number(psql(url, 'SELECT count(*) FROM maillon.record_outcomes').trim());
  const career = runs.find((r) => r.flow === 'career') ?? runs[0]!;
  // An affiliate in the middle of the career file, emitted with its INSS.
  const [key, inss] = psql(
    url,
    `
    SELECT o.source_key, o.record_key FROM maillon.record_outcomes o JOIN maillon.runs r USING (run_id)
    WHERE r.flow = '${career.flow}' AND r.period = '${career.period}' AND o.outcome = 'emitted' AND o.record_key IS NOT NULL
    ORDER BY o.ordinal OFFSET (SELECT count(*) / 2 FROM maillon.record_outcomes o2 JOIN maillon.runs r2 USING (run_id) WHERE r2.flow = '${career.flow}' AND r2.period = '${career.period}' AND o2.outcome = 'emitted') LIMIT 1`,
  )
    .trim()
    .split('|');
  settle();
  const queryKey = await bestTrace(url, key!);
  const queryInss = await bestTrace(url, inss!);
  const byKey = await maillon(['trace', key!, '--json'], env);
  const byInss = await maillon(['trace', inss!, '--json'], env);
  const found = (s: Step): number => (JSON.parse(s.stdout) as { entries: unknown[] }).entries.length;
  console.log('');
  console.log(`trace      over ${lineageRows} lineage rows (each quarterly flow's run copied into the 3 quarters before it)`);
  console.log(
    `  by dossier key: ${fmt(queryKey, 3)} s (its queries, best of 3); maillon trace ${fmt(byKey.seconds, 2)} s wall with process start, peak RSS ${fmt(byKey.rssMiB)} MiB, ${found(byKey)} extraction(s)`,
  );
  console.log(
    `  by INSS:        ${fmt(queryInss, 3)} s (its queries, best of 3); maillon trace ${fmt(byInss.seconds, 2)} s wall with process start, peak RSS ${fmt(byInss.rssMiB)} MiB, ${found(byInss)} extraction(s)`,
  );
  const worst = Math.max(queryKey, queryInss);
  console.log(`  a trace answers in under a second              ${worst < 1 ? 'met' : 'MISSED'}   ${fmt(worst, 3)} s`);
  return { lineageRows, byKey, byInss, queryKey, queryInss };
}
