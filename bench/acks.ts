/**
 * `node --import tsx bench/acks.ts [--records N] [--anomalies K[,K2…]] [--keep]`: how `maillon
 * acks` applies a NOTI with many anomalies. For each K: a fresh ledger holds one sent career
 * file of N emitted records (generated in SQL); a NOTI naming K of them (1 in N/K, each by INSS
 * and AttestationID, the format of src/simulate/replyDocuments.ts) waits in OUTTEST of an
 * in-process SFTP server (the demo partner); `maillon acks --env T` is then started as an
 * operator starts it. Prints its wall time and peak RSS, the NOTI's size, and the floor: a
 * `psql \copy` of the same anomaly rows into a table shaped like maillon.record_anomalies.
 * Checks that every anomaly was stored and matched to its record.
 * Uses MAILLON_BENCH_DATABASE_URL (an admin URL) or the local PostgreSQL on 127.0.0.1:5432.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createPool } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { startDemoPartner } from '../src/simulate/demoPartner.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1100000' },
    anomalies: { type: 'string', default: '1000,100000' },
    'max-reply-bytes': { type: 'string', default: String(50 * 1024 * 1024) },
    keep: { type: 'boolean', default: false },
  },
});
const adminUrl = process.env['MAILLON_BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const FILE = 'FI.CARR.012345.20261010.00001.T.1.1';
const NOTI = 'FO.NOTI.999999.20261010.00001.T';
// The file's bytes in the ledger are those of /dev/null, so that the evidence pack can be written.
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function psql(url: string, command: string): string {
  return execFileSync('psql', [url, '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', command], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  });
}

const inssOf = (i: number): string => String(10_000_000_000 + i);

/** One sent submission of one file holding `records` emitted records (INSS 1000000000i, AttestationID i). */
async function seedLedger(url: string, records: number): Promise<void> {
  const pool = createPool(url, 1);
  try {
    await migrate(pool, 'ledger');
    await migrate(pool, 'dossier');
  } finally {
    await pool.end();
  }
  psql(
    url,
    `
    INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, finished_at, extracted, emitted, quarantined, started_by, host, pid)
      VALUES ('career', '2026-Q3', 'T', '2026-10-10T00:00:00Z', false, 'succeeded', '2026-10-10T00:00:00Z', '2026-10-10T00:01:00Z', ${records}, ${records}, 0, 'bench', 'bench', 1);
    INSERT INTO maillon.submissions (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, state, kind, created_at, go_started_at)
      VALUES (1, 'career', '2026-Q3', 'T', 'BENCH', '012345', 'CARR', '2026-10-10', '00001', 1, 'written', 'original', '2026-10-10T00:01:00Z', '2026-10-10T00:02:00Z');
    UPDATE maillon.submissions SET state = 'sent', sent_at = '2026-10-10T00:02:00Z' WHERE submission_id = 1;
    INSERT INTO maillon.files (submission_id, run_id, file_key, kind, name, part, receiver, path, records, bytes, sha256, created_at)
      VALUES (1, 1, 'BENCH', 'FI', '${FILE}', 1, 'BENCH', '/dev/null', ${records}, 0, '${EMPTY_SHA256}', '2026-10-10T00:01:00Z');
    INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, record_key, file_key, position, attestation_id, record_hash)
      SELECT 1, i, 'A' || i, 'emitted', (10000000000 + i)::text, 'BENCH', i, i, md5(i::text) FROM generate_series(1, ${records}) i;
    ANALYZE maillon.record_outcomes;`,
  );
}

/** Writes the NOTI (as the simulator renders it: one element a line, indented) and its GO; returns its size in bytes. */
async function writeNoti(outtest: string, records: number, anomalies: number): Promise<number> {
  const file = path.join(outtest, NOTI);
  const out = createWriteStream(file);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  await write(
    `<?xml version="1.0" encoding="UTF-8"?>\n<NOTI>\n  <Form>\n    <Identification>NOTI001</Identification>\n    <FormCreationDate>2026-10-10</FormCreationDate>\n    <FormCreationHour>04:00:00</FormCreationHour>\n    <FileReference>\n      <FileName>${FILE}</FileName>\n    </FileReference>\n    <Result>2</Result>\n    <Anomalies>\n`,
  );
  const step = Math.max(1, Math.floor(records / anomalies));
  for (let k = 0; k < anomalies; k++) {
    const i = 1 + ((k * step) % records);
    await write(
      `      <Anomaly>\n        <INSS>${inssOf(i)}</INSS>\n        <AttestationID>${i}</AttestationID>\n        <Class>N</Class>\n        <Code>N0007</Code>\n        <Description>record accepted with a remark</Description>\n      </Anomaly>\n`,
    );
  }
  await write('    </Anomalies>\n  </Form>\n</NOTI>\n');
  out.end();
  await finished(out);
  await fs.writeFile(path.join(outtest, `GO${NOTI.slice(2)}.1`), '');
  return (await fs.stat(file)).size;
}

async function runAcks(env: Record<string, string>): Promise<{ seconds: number; rssMiB: number; stdout: string }> {
  const rssFile = path.join(os.tmpdir(), `maillon-bench-acks-rss-${process.pid}`);
  const started = process.hrtime.bigint();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'bin/maillon.js'), ['acks', '--env', 'T', '--json'], {
      env: { ...process.env, ...env, NODE_OPTIONS: `--import=${path.join(ROOT, 'bench/maxRss.mjs')}`, MAILLON_BENCH_RSS_FILE: rssFile, MAILLON_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`maillon acks exited with ${code}: ${out.slice(0, 500)}`))));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rssMiB = Number(await fs.readFile(rssFile, 'utf8')) / 1024;
  await fs.rm(rssFile, { force: true });
  return { seconds, rssMiB, stdout };
}

/** The floor: `psql \copy` of the same anomaly rows (CSV) into a table shaped like maillon.record_anomalies. */
async function floorSeconds(url: string, dir: string, records: number, anomalies: number): Promise<number> {
  const csv = path.join(dir, 'anomalies.csv');
  const out = createWriteStream(csv);
  const step = Math.max(1, Math.floor(records / anomalies));
  for (let k = 0; k < anomalies; k++) {
    const i = 1 + ((k * step) % records);
    if (!out.write(`1,1,1,${i},${inssOf(i)},${i},false,N0007,record accepted with a remark\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
  psql(url, 'CREATE TABLE bench_anomalies (LIKE maillon.record_anomalies INCLUDING DEFAULTS INCLUDING IDENTITY)');
  const started = process.hrtime.bigint();
  psql(url, `\\copy bench_anomalies (reply_id, file_id, run_id, ordinal, inss, attestation_id, blocking, code, description) FROM '${csv}' WITH (FORMAT csv)`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  psql(url, 'DROP TABLE bench_anomalies');
  return seconds;
}

async function benchOne(records: number, anomalies: number): Promise<void> {
  const name = `maillon_bench_acks_${process.pid}_${anomalies}`;
  psql(adminUrl, `DROP DATABASE IF EXISTS ${name}`);
  psql(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-bench-acks-'));
  const partner = await startDemoPartner(home);
  try {
    await seedLedger(url.toString(), records);
    const bytes = await writeNoti(path.join(partner.root, 'OUTTEST'), records, anomalies);
    const env = {
      DATABASE_URL: url.toString(),
      MAILLON_HOME: path.join(home, 'maillon'),
      MAILLON_RECEIVERS: partner.receiversFile,
      MAILLON_ENV: 'T',
      MAILLON_MAX_REPLY_BYTES: values['max-reply-bytes'],
      MAILLON_EVIDENCE: path.join(home, 'evidence'),
    };
    const acks = await runAcks(env);
    const stored = psql(url.toString(), 'SELECT count(*), count(ordinal) FROM maillon.record_anomalies').trim().split('|').map(Number);
    const state = psql(url.toString(), 'SELECT state FROM maillon.submissions').trim();
    const floor = await floorSeconds(url.toString(), home, records, anomalies);
    const ok = stored[0] === anomalies && stored[1] === anomalies && state === 'accepted_with_anomalies';
    console.log(
      `${String(records).padStart(9)} ${String(anomalies).padStart(9)} ${(bytes / 1024 / 1024).toFixed(1).padStart(8)} ${acks.seconds.toFixed(2).padStart(9)} ${acks.rssMiB.toFixed(1).padStart(10)} ${floor.toFixed(2).padStart(8)} ${(acks.seconds / floor).toFixed(1).padStart(6)}  ${ok ? 'ok' : `WRONG: ${stored.join('/')} stored/matched, submission ${state}; ${acks.stdout.slice(0, 300)}`}`,
    );
  } finally {
    await partner.close();
    if (!values.keep) {
      psql(adminUrl, `DROP DATABASE IF EXISTS ${name}`);
      await fs.rm(home, { recursive: true, force: true });
    } else console.log(`kept ${name} and ${home}`);
  }
}

const records = Number(values.records);
console.log('  records anomalies NOTI MiB    acks s   peak MiB  floor s  ratio');
for (const k of values.anomalies.split(',').map(Number)) await benchOne(records, k);
