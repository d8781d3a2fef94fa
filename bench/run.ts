/**
 * `npm run bench [-- --affiliates N] [--seed S]`: generates N affiliates, imports them, runs
 * every flow for one period of its kind, and compares each run with `psql \copy` of the same
 * extraction query to /dev/null. Prints wall time, records/s and the peak RSS of each step.
 * Uses MAILLON_BENCH_DATABASE_URL (an admin URL) or the local PostgreSQL on 127.0.0.1:5432;
 * creates its own database and drops it at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PIPELINES } from '../pipelines/index.js';
import { CONTRACT } from '../src/import/contract.js';
import { runStatement } from '../src/db/database.js';
import { bindSql } from '../src/extract/bindSql.js';
import { formatPeriod, lastDay, makePeriod, type Period } from '../src/period/period.js';
import { benchRenderer } from './renderer.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({
  options: { affiliates: { type: 'string', default: '100000' }, seed: { type: 'string', default: '1' }, keep: { type: 'boolean', default: false } },
});
const affiliates = Number(values.affiliates);
const adminUrl = process.env['MAILLON_BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const LAST_QUARTER = makePeriod('quarter', 2026, 3);

interface Step {
  seconds: number;
  rssMiB: number;
  stdout: string;
}

async function maillon(args: string[], env: Record<string, string>): Promise<Step> {
  const rssFile = path.join(os.tmpdir(), `maillon-bench-rss-${process.pid}-${Date.now()}`);
  const started = process.hrtime.bigint();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', path.join(ROOT, 'bench/maxRss.mjs'), path.join(ROOT, 'bin/maillon.js'), ...args], {
      env: { ...process.env, ...env, MAILLON_BENCH_RSS_FILE: rssFile, MAILLON_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`maillon ${args.join(' ')} exited with ${code}`))));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rssMiB = Number(await fs.readFile(rssFile, 'utf8')) / 1024;
  await fs.rm(rssFile, { force: true });
  return { seconds, rssMiB, stdout };
}

function psqlCopySeconds(url: string, sql: string): number {
  const started = process.hrtime.bigint();
  execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `\\copy (${sql.replace(/\s+/g, ' ').trim()}) to '/dev/null'`], { stdio: ['ignore', 'ignore', 'inherit'] });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * `psql \copy` of every CSV file of a folder into fresh tables shaped like the dossier tables:
 * 'bare' without keys, indexes or checks (the COPY floor), 'keyed' with everything (what a plain
 * load into the real tables costs). Neither checks the contract; both are dropped afterwards.
 */
function psqlCopyCsvSeconds(url: string, folder: string, shape: 'bare' | 'keyed'): number {
  const like = shape === 'bare' ? 'INCLUDING DEFAULTS' : 'INCLUDING ALL';
  const tables = PIPELINE_TABLES.map((t) => `bench_${t}`);
  execFileSync('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', PIPELINE_TABLES.map((t) => `CREATE TABLE bench_${t} (LIKE dossier.${t} ${like});`).join(' ')]);
  if (shape === 'keyed') {
    const fks = PIPELINE_TABLES.filter((t) => t !== 'affiliates' && t !== 'companies')
      .map((t) => `ALTER TABLE bench_${t} ADD FOREIGN KEY (affiliate_id) REFERENCES bench_affiliates;`)
      .join(' ');
    execFileSync('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `${fks} ALTER TABLE bench_payments ADD FOREIGN KEY (contribution_id) REFERENCES bench_contributions;`]);
  }
  const started = process.hrtime.bigint();
  for (const t of PIPELINE_TABLES) {
    const file = path.join(folder, `${t}.csv`);
    execFileSync('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy bench_${t} FROM '${file}' WITH (FORMAT csv, HEADER true)`], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  execFileSync('psql', [url, '-q', '-c', `DROP TABLE ${tables.join(', ')} CASCADE`]);
  return seconds;
}

const PIPELINE_TABLES = CONTRACT.map((t) => t.table);

function periodFor(kind: Period['kind']): Period {
  if (kind === 'quarter') return LAST_QUARTER;
  if (kind === 'month') return makePeriod('month', 2026, 9);
  return makePeriod('year', 2025, 1);
}

const fmt = (n: number, d = 1): string => n.toFixed(d);
const dbName = `maillon_bench_${process.pid}`;
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-bench-'));
const u = new URL(adminUrl);
u.pathname = `/${dbName}`;
const url = u.toString();
const env = { DATABASE_URL: url, MAILLON_HOME: work, MAILLON_SENDER: '012345', MAILLON_ENV: 'S' };
await runStatement(adminUrl, `CREATE DATABASE ${dbName}`);
try {
  console.log(`maillon bench: ${affiliates} affiliates, seed ${values.seed}, ${os.cpus().length} cores, node ${process.version}`);
  const data = path.join(work, 'data');
  const gen = await maillon(['generate', '--affiliates', String(affiliates), '--seed', String(values.seed), '--invalid-rate', '0.01', '--last-quarter', formatPeriod(LAST_QUARTER), '--out', data], env);
  const rows = [...gen.stdout.matchAll(/(\d+) rows/g)].reduce((n, m) => n + Number(m[1]), 0);
  console.log(`generate   ${String(rows).padStart(10)} rows  ${fmt(gen.seconds)} s  ${fmt(rows / gen.seconds, 0)} rows/s  peak RSS ${fmt(gen.rssMiB)} MiB`);
  await maillon(['db', 'migrate'], env);
  const imp = await maillon(['import', data], env);
  const method = /bulk path/.test(imp.stdout) ? 'bulk path' : 'row by row';
  console.log(`import     ${String(rows).padStart(10)} rows  ${fmt(imp.seconds)} s  ${fmt(rows / imp.seconds, 0)} rows/s  peak RSS ${fmt(imp.rssMiB)} MiB  (${method})`);
  const bare = psqlCopyCsvSeconds(url, data, 'bare');
  console.log(`  psql \\copy of the same CSV into tables without keys or indexes: ${fmt(bare)} s  ${fmt(rows / bare, 0)} rows/s  (import / copy = ${fmt(imp.seconds / bare, 2)})`);
  const keyed = psqlCopyCsvSeconds(url, data, 'keyed');
  console.log(`  psql \\copy of the same CSV into copies of the dossier tables with their keys and indexes: ${fmt(keyed)} s  ${fmt(rows / keyed, 0)} rows/s`);
  const render = await benchRenderer(Math.min(affiliates, 500_000), work);
  console.log(`render     ${String(render.records).padStart(10)} recs  ${fmt(render.seconds)} s  ${fmt(render.records / render.seconds, 0)} records/s (career XML writer alone)`);
  console.log('');
  console.log('flow                     period   records     wall s   records/s  peak RSS MiB  psql \\copy s  ratio');
  for (const p of PIPELINES) {
    const period = periodFor(p.periodKind);
    const run = await maillon(['run', p.id, '--period', formatPeriod(period), '--as-of', `${lastDay(period)}T23:59:59Z`, '--json'], env);
    const result = JSON.parse(run.stdout) as { counts: { extracted: number } };
    const sql = bindSql(p.extract.sql, {
      periodKey: formatPeriod(period), periodStart: period.start, periodEnd: period.end, periodLastDay: lastDay(period), year: period.year, asOfDay: lastDay(period),
    });
    const floor = psqlCopySeconds(url, sql);
    const n = result.counts.extracted;
    console.log(
      `${p.id.padEnd(24)} ${formatPeriod(period).padEnd(8)} ${String(n).padStart(8)} ${fmt(run.seconds, 2).padStart(10)} ${fmt(n / run.seconds, 0).padStart(11)} ${fmt(run.rssMiB).padStart(13)} ${fmt(floor, 2).padStart(13)} ${fmt(run.seconds / floor, 2).padStart(6)}`,
    );
  }
} finally {
  await runStatement(adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  if (!values.keep) await fs.rm(work, { recursive: true, force: true });
}
