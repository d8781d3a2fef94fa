/**
 * `npm run bench [-- --affiliates N[,M…]] [--seed S] [--keep] [--lifecycle] [--trace]`: generates N affiliates (1 %
 * invalid), imports them, runs every flow for one period of its kind, and compares each run
 * with `psql \copy` of the same extraction query to /dev/null. Prints wall time, records/s and
 * the peak RSS of each step (a flow's ratio both on the wall time of its process and on the
 * run's own duration in the ledger, which leaves out the process start), then checks the quarantine against the generator's list of invalid
 * affiliates and each flow's reconciliation report. With several sizes, each is run in turn
 * and a linearity table compares the time per record; one size above 100,000 runs 100,000 first
 * as that reference (`--no-reference` leaves it out). It ends with the targets of the runs, each
 * met or MISSED at the largest size. The import is timed next to two `psql \copy` of the same CSV:
 * a plain one into copies of the dossier tables (keys, indexes, checks and references: the tables
 * the import ends with; the target's comparison), and a bare one into tables without any of them
 * (the floor of COPY itself; each run twice with the import, best to best).
 * `--lifecycle` goes on after the runs of each size: send, replies, reports, reruns and evidence,
 * each against its floor (bench/lifecycle.ts, bench/LIFECYCLE.md), and ends with the lifecycle
 * targets as well.
 * `--trace` then builds a year of lineage and times `maillon trace` by dossier key and by INSS
 * (bench/trace.ts).
 * Uses MAILLON_BENCH_DATABASE_URL (an admin URL) or the local PostgreSQL on 127.0.0.1:5432;
 * creates its own database and drops it at the end.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PIPELINES } from '../pipelines/index.js';
import { INVALID_LIST } from '../src/generate/generateDataset.js';
import { CONTRACT } from '../src/import/contract.js';
import { runStatement } from '../src/db/database.js';
import { bindSql } from '../src/extract/bindSql.js';
import { formatPeriod, lastDay, makePeriod, type Period, periodContaining } from '../src/period/period.js';
import { bestOf, current, fmt, maillon, type Measures, peak, psql, secondsOf, settle, type Step } from './common.js';
import { benchLifecycle, type LifecycleMeasures } from './lifecycle.js';
import { printLifecycleTargets } from './lifecycleTargets.js';
import { benchRenderer } from './renderer.js';
import { benchTrace } from './trace.js';

const { values } = parseArgs({
  options: {
    affiliates: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    'no-reference': { type: 'boolean', default: false },
    lifecycle: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
  },
});
const adminUrl = process.env['MAILLON_BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const LAST_QUARTER = makePeriod('quarter', 2026, 3);

/**
 * The floor of a flow: `psql \copy` of its extraction query to /dev/null, the best of three
 * (this machine's speed varies from one minute to the next; a slow floor would flatter the ratio).
 */
function psqlCopySeconds(url: string, sql: string): number {
  const command = `\\copy (${sql.replace(/\s+/g, ' ').trim()}) to '/dev/null'`;
  return bestOf(3, () => psql(url, command));
}

/**
 * `psql \copy` of every CSV file of a folder into fresh tables shaped like the dossier tables:
 * 'bare' without keys, indexes or checks (the COPY floor), 'plain' with everything (what a plain
 * load into the real tables costs). Neither checks the contract; both are dropped afterwards.
 */
function psqlCopyCsvSeconds(url: string, folder: string, shape: 'bare' | 'plain'): number {
  const like = shape === 'bare' ? 'INCLUDING DEFAULTS' : 'INCLUDING ALL';
  const tables = PIPELINE_TABLES.map((t) => `bench_${t}`);
  psql(url, PIPELINE_TABLES.map((t) => `CREATE TABLE bench_${t} (LIKE dossier.${t} ${like});`).join(' '));
  if (shape === 'plain') {
    const fks = PIPELINE_TABLES.filter((t) => t !== 'affiliates' && t !== 'companies')
      .map((t) => `ALTER TABLE bench_${t} ADD FOREIGN KEY (affiliate_id) REFERENCES bench_affiliates;`)
      .join(' ');
    psql(url, `${fks} ALTER TABLE bench_payments ADD FOREIGN KEY (contribution_id) REFERENCES bench_contributions;`);
  }
  const seconds = secondsOf(() => {
    for (const t of PIPELINE_TABLES) psql(url, `\\copy bench_${t} FROM '${path.join(folder, `${t}.csv`)}' WITH (FORMAT csv, HEADER true)`);
  });
  psql(url, `DROP TABLE ${tables.join(', ')} CASCADE`);
  return seconds;
}

const PIPELINE_TABLES = CONTRACT.map((t) => t.table);

/**
 * Bad input at scale: the generator lists the affiliates it gave a domain error and the rule
 * that must catch it. Per flow: what was quarantined, how much of it is listed under that same
 * rule, what is not listed (the flow's own rules: no insurer, regionalised allowance…), and
 * records of listed affiliates the flow emitted although it applies their rule (for the INSS
 * check, which every flow applies to every record that carries the INSS; other rules apply to
 * some record types only, and a bad period outside the quarter does not touch that quarter's
 * record). The career flow checks every kind of injected fault, so there every quarantined
 * record must be a listed affiliate under its listed rule.
 * Then each flow's reconciliation report is built and its checks must all hold.
 */
async function checkQuarantine(url: string, data: string, ran: { flow: string; period: string }[], env: Record<string, string>): Promise<void> {
  psql(url, 'CREATE TABLE bench_invalid (affiliate_id text PRIMARY KEY, rule text NOT NULL)');
  psql(url, `\\copy bench_invalid FROM '${path.join(data, INVALID_LIST)}' WITH (FORMAT text, DELIMITER ' ')`);
  const listed = Number(psql(url, 'SELECT count(*) FROM bench_invalid').trim());
  console.log('');
  console.log(`quarantine: ${listed} affiliates generated with a domain error (${path.basename(INVALID_LIST)})`);
  console.log("flow                     quarantined  listed, same rule  listed bad INSS, emitted  not listed (the flow's own rules)");
  let exact = true;
  for (const { flow, period } of ran) {
    // The affiliate behind each record: allowance certificates are keyed by allowance, incapacity attestations by
    // request, statistics by "type:key"
    // (affiliate, contribution, allowance or company).
    const [row] = psql(
      url,
      `
      WITH o AS (
        SELECT o.outcome, o.rule,
               CASE '${flow}' WHEN 'allowance-certificates' THEN (SELECT al.affiliate_id FROM dossier.allowances al WHERE al.allowance_id = o.source_key)
                              WHEN 'incapacity-attestations' THEN (SELECT r.affiliate_id FROM dossier.incapacity_requests r WHERE r.request_id = o.source_key)
                              WHEN 'statistics' THEN CASE split_part(o.source_key, ':', 1)
                                WHEN 'affiliate' THEN split_part(o.source_key, ':', 2)
                                WHEN 'contribution' THEN (SELECT c.affiliate_id FROM dossier.contributions c WHERE c.contribution_id = split_part(o.source_key, ':', 2))
                                WHEN 'allowance' THEN (SELECT al.affiliate_id FROM dossier.allowances al WHERE al.allowance_id = split_part(o.source_key, ':', 2)) END
                              ELSE o.source_key END AS affiliate_id
        FROM maillon.record_outcomes o
        WHERE o.run_id = (SELECT max(run_id) FROM maillon.runs WHERE flow = '${flow}' AND period = '${period}' AND state = 'succeeded')),
      applied AS (SELECT DISTINCT rule FROM o WHERE outcome = 'quarantined')
      SELECT count(*) FILTER (WHERE o.outcome = 'quarantined'),
             count(*) FILTER (WHERE o.outcome = 'quarantined' AND i.rule = o.rule),
             coalesce((SELECT string_agg(rule || ' ' || n, ', ' ORDER BY rule) FROM (
               SELECT o2.rule, count(*) AS n FROM o o2 LEFT JOIN bench_invalid i2 USING (affiliate_id)
               WHERE o2.outcome = 'quarantined' AND (i2.rule IS DISTINCT FROM o2.rule) GROUP BY o2.rule) x), '-'),
             count(*) FILTER (WHERE o.outcome <> 'quarantined' AND i.rule IN (SELECT rule FROM applied)
                              AND i.rule = 'inss-check-digit')
      FROM o LEFT JOIN bench_invalid i USING (affiliate_id)`,
    )
      .trim()
      .split('\n');
    const [quarantined, same, other, missed] = row!.split('|');
    const report = await maillon(['report', flow, '--period', period, '--json'], env);
    const checks = (JSON.parse(report.stdout) as { checks: { ok: boolean; name: string }[] }).checks;
    const failed = checks.filter((c) => !c.ok).map((c) => c.name);
    if (flow === 'career' && quarantined !== same) exact = false;
    if (missed !== '0' || failed.length > 0) exact = false;
    console.log(`${flow.padEnd(24)} ${quarantined!.padStart(11)}  ${same!.padStart(17)}  ${missed!.padStart(44)}  ${other}`);
    console.log(`${''.padEnd(24)} report: ${failed.length === 0 ? `${checks.length}/${checks.length} checks hold` : `FAILED: ${failed.join('; ')}`} (peak RSS ${fmt(report.rssMiB)} MiB)`);
  }
  console.log(
    exact
      ? 'career quarantined only listed affiliates, each under its listed rule; no flow emitted a record with a listed bad INSS; every report reconciles'
      : 'QUARANTINE OR REPORT MISMATCH (see above)',
  );
  if (!exact) process.exitCode = 1;
}

function periodFor(kind: Period['kind']): Period {
  if (kind === 'quarter') return LAST_QUARTER;
  if (kind === 'month') return makePeriod('month', 2026, 9);
  // The generated requests are made in the week up to the last quarter's last day.
  if (kind === 'day') return periodContaining('day', lastDay(LAST_QUARTER));
  return makePeriod('year', 2025, 1);
}

/** What one size measured: the steps up to the runs, and the lifecycle when asked. */
interface SizeResult {
  measures: Measures;
  lifecycle: LifecycleMeasures | null;
}

async function benchOnce(affiliates: number): Promise<SizeResult> {
  const measures: Measures = new Map();
  let lifecycle: LifecycleMeasures | null = null;
  current.size = affiliates;
  const dbName = `maillon_bench_${process.pid}_${affiliates}`;
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-bench-'));
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const env = { DATABASE_URL: url, MAILLON_HOME: work, MAILLON_SENDER: '012345', MAILLON_ENV: 'S' };
  await runStatement(adminUrl, `CREATE DATABASE ${dbName}`);
  try {
    console.log(`maillon bench: ${affiliates} affiliates, seed ${values.seed}, ${os.cpus().length} cores, node ${process.version}`);
    const data = path.join(work, 'data');
    const gen = await maillon(
      ['generate', '--affiliates', String(affiliates), '--seed', String(values.seed), '--invalid-rate', '0.01', '--last-quarter', formatPeriod(LAST_QUARTER), '--out', data],
      env,
    );
    const rows = [...gen.stdout.matchAll(/(\d+) rows/g)].reduce((n, m) => n + Number(m[1]), 0);
    console.log(`generate   ${String(rows).padStart(10)} rows  ${fmt(gen.seconds)} s  ${fmt(rows / gen.seconds, 0)} rows/s  peak RSS ${fmt(gen.rssMiB)} MiB`);
    measures.set('generate', { items: rows, seconds: gen.seconds, rssMiB: gen.rssMiB });
    await maillon(['db', 'migrate'], env);
    // The import and the bare copy twice each, alternately, compared best to best: a machine's
    // speed can vary from one minute to the next (bench/README.md). The second import replaces the
    // first's data, as an operator's next import does.
    const imports: Step[] = [];
    const bares: number[] = [];
    for (let i = 0; i < 2; i++) {
      settle();
      imports.push(await maillon(['import', data], env));
      settle();
      bares.push(psqlCopyCsvSeconds(url, data, 'bare'));
    }
    const imp = imports.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const bare = Math.min(...bares);
    const method = imports.every((i) => /bulk path/.test(i.stdout)) ? 'bulk path' : 'row by row';
    const times = (xs: number[]): string => xs.map((x) => fmt(x)).join(' and ');
    console.log(
      `import     ${String(rows).padStart(10)} rows  ${fmt(imp.seconds)} s  ${fmt(rows / imp.seconds, 0)} rows/s  peak RSS ${fmt(Math.max(...imports.map((i) => i.rssMiB)))} MiB  (${method}; best of ${times(imports.map((i) => i.seconds))} s)`,
    );
    const bareRatio = imp.seconds / bare;
    console.log(`  psql \\copy of the same CSV into tables without keys or indexes: ${fmt(bare)} s  ${fmt(rows / bare, 0)} rows/s  (best of ${times(bares)} s; import / copy = ${fmt(bareRatio, 2)})`);
    // Once: it is several times slower than the import, far beyond this machine's noise.
    settle();
    const plain = psqlCopyCsvSeconds(url, data, 'plain');
    const plainRatio = imp.seconds / plain;
    measures.set('import', { items: rows, seconds: imp.seconds, rssMiB: Math.max(...imports.map((i) => i.rssMiB)), bareRatio, plainRatio });
    console.log(
      `  psql \\copy of the same CSV into copies of the dossier tables (keys, indexes, checks, references): ${fmt(plain)} s  ${fmt(rows / plain, 0)} rows/s  (import / copy = ${fmt(plainRatio, 2)})`,
    );
    const render = await benchRenderer(Math.min(affiliates, 500_000), work);
    console.log(`render     ${String(render.records).padStart(10)} recs  ${fmt(render.seconds)} s  ${fmt(render.records / render.seconds, 0)} records/s (career XML writer alone)`);
    console.log('');
    console.log('flow                     period   records     wall s   records/s  peak RSS MiB  psql \\copy s  ratio    run s  ratio   (psql \\copy: best of 3)');
    const ran: { flow: string; period: string; asOf: string; seconds: number }[] = [];
    for (const p of PIPELINES) {
      const period = periodFor(p.periodKind);
      const asOf = `${lastDay(period)}T23:59:59Z`;
      settle();
      const run = await maillon(['run', p.id, '--period', formatPeriod(period), '--as-of', asOf, '--json'], env);
      ran.push({ flow: p.id, period: formatPeriod(period), asOf, seconds: run.seconds });
      const result = JSON.parse(run.stdout) as { runId: number; counts: { extracted: number } };
      // The run as `maillon serve` runs it, without the process start: its own duration in the ledger.
      const own = Number(psql(url, `SELECT extract(epoch FROM finished_at - started_at) FROM maillon.runs WHERE run_id = ${result.runId}`).trim());
      const sql = bindSql(p.extract.sql, {
        periodKey: formatPeriod(period),
        periodStart: period.start,
        periodEnd: period.end,
        periodLastDay: lastDay(period),
        year: period.year,
        asOfDay: lastDay(period),
      });
      settle();
      const floor = psqlCopySeconds(url, sql);
      const n = result.counts.extracted;
      const ratios = { runRatio: own / floor, wallRatio: run.seconds / floor };
      measures.set(p.id, { items: n, seconds: run.seconds, rssMiB: run.rssMiB, ...ratios });
      console.log(
        `${p.id.padEnd(24)} ${formatPeriod(period).padEnd(8)} ${String(n).padStart(8)} ${fmt(run.seconds, 2).padStart(10)} ${fmt(n / run.seconds, 0).padStart(11)} ${fmt(run.rssMiB).padStart(13)} ${fmt(floor, 2).padStart(13)} ${fmt(ratios.wallRatio, 2).padStart(6)} ${fmt(own, 2).padStart(8)} ${fmt(ratios.runRatio, 2).padStart(6)}`,
      );
    }
    await checkQuarantine(url, data, ran, env);
    if (values.lifecycle) lifecycle = await benchLifecycle({ url, env, work, data, runs: ran });
    if (values.trace) await benchTrace(url, env, ran);
  } finally {
    await runStatement(adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    if (!values.keep) await fs.rm(work, { recursive: true, force: true });
  }
  return { measures, lifecycle };
}

const REFERENCE = 100_000;
const asked = values.affiliates.split(',').map(Number);
if (asked.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--affiliates takes sizes such as 100000 or 100000,1300000, got "${values.affiliates}"`);
// One size above the reference: the reference runs first, so that linear growth is measured too.
const sizes = asked.length === 1 && asked[0]! > REFERENCE && !values['no-reference'] ? [REFERENCE, asked[0]!] : asked;
if (sizes !== asked) console.log(`(${REFERENCE} affiliates first, as the reference of the linearity target; --no-reference leaves it out)\n`);
const results: SizeResult[] = [];
for (const [i, n] of sizes.entries()) {
  if (i > 0) console.log('');
  results.push(await benchOnce(n));
}
const linearity = new Map<string, number>();
if (sizes.length > 1) {
  // Linear growth: time per item at the largest size over time per item at the smallest.
  const small = results[0]!.measures;
  const large = results[results.length - 1]!.measures;
  console.log('');
  console.log(
    `linearity: time per record at ${sizes[sizes.length - 1]} affiliates / time per record at ${sizes[0]} (1.00 = linear; fixed costs such as the ~0.6 s process start make the small size dearer)`,
  );
  for (const [step, a] of small) {
    const b = large.get(step);
    if (!b || a.items === 0 || b.items === 0) continue;
    const perA = a.seconds / a.items;
    const perB = b.seconds / b.items;
    linearity.set(step, perB / perA);
    console.log(`  ${step.padEnd(24)} ${fmt(perA * 1e6, 2).padStart(9)} µs  ${fmt(perB * 1e6, 2).padStart(9)} µs  ${fmt(perB / perA, 2).padStart(6)}`);
  }
}
printTargets(sizes[sizes.length - 1]!, results[results.length - 1]!.measures, linearity);
if (values.lifecycle)
  printLifecycleTargets(
    sizes,
    results,
    PIPELINES.map((p) => p.id),
  );

/**
 * The targets of the runs, judged on the largest size: a flow's run within 3x its floor (on the
 * run's own duration; the process's wall time is shown beside it), peak RSS under 300 MB over every
 * maillon process of the bench, time per record within 1.2x of the smallest size's, and the import
 * "at COPY speed": within 1.2x of a plain `psql \copy` of the same CSV into the dossier's tables
 * (the bare copy beside it, against the same 1.2x).
 */
function printTargets(size: number, last: Measures, linear: Map<string, number>): void {
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const flows = PIPELINES.map((p) => ({ id: p.id, m: last.get(p.id)! }));
  const worst = Math.max(...flows.map((f) => f.m.runRatio!));
  const worstWall = Math.max(...flows.map((f) => f.m.wallRatio!));
  const mb = (peak.mib * 1024 * 1024) / 1e6;
  const imp = last.get('import')!;
  console.log('');
  console.log(`targets of the runs at ${size} affiliates`);
  console.log(`  every flow's run <= 3x its psql \\copy floor    ${verdict(worst <= 3).padEnd(7)} ${flows.map((f) => `${f.id} ${fmt(f.m.runRatio!, 2)}`).join(', ')}`);
  console.log(`    (on the process's wall time, start included: ${verdict(worstWall <= 3)}, ${flows.map((f) => `${f.id} ${fmt(f.m.wallRatio!, 2)}`).join(', ')})`);
  console.log(`  peak RSS < 300 MB at any size                  ${verdict(mb < 300).padEnd(7)} ${fmt(mb)} MB = ${fmt(peak.mib)} MiB (${peak.what})`);
  if (linear.size > 0) {
    const [step, ratio] = [...linear].reduce((a, b) => (b[1] > a[1] ? b : a));
    console.log(`  time per record within 1.2x of the smallest    ${verdict(ratio <= 1.2).padEnd(7)} largest ratio ${fmt(ratio, 2)} (${step})`);
  } else {
    console.log(`  time per record within 1.2x of the smallest    not measured: give two sizes, such as --affiliates ${REFERENCE},${size}`);
  }
  console.log(
    `  import at COPY speed (within 1.2x)             ${verdict(imp.plainRatio! <= 1.2).padEnd(7)} ${fmt(imp.plainRatio!, 2)}x a plain psql \\copy of the same CSV into the dossier's tables`,
  );
  console.log(`    (against a bare psql \\copy into tables without keys, indexes, checks or references: ${verdict(imp.bareRatio! <= 1.2)}, ${fmt(imp.bareRatio!, 2)}x)`);
}
