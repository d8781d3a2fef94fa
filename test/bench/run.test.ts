import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { PIPELINES } from '../../pipelines/index.js';
import { ROOT } from '../helpers/runHarness.js';

const run = promisify(execFile);
const AFFILIATES = 3000;

/**
 * `npm run bench` at a small size, so that the benchmark keeps working as the code changes: every
 * step runs, the quarantine matches the generator's list, every report reconciles (the bench fails
 * otherwise), the import is timed next to both copies of the same CSV, and the targets are judged.
 * Speed is not judged here: that is the benchmark's own job, at scale (see the README).
 */
describe('npm run bench', () => {
  it('generates, imports, runs every flow, checks the quarantine and the reports, and judges the targets', async () => {
    const adminUrl = inject('adminUrl');
    const child = run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--affiliates', String(AFFILIATES)], {
      cwd: ROOT,
      env: { ...process.env, MAILLON_BENCH_DATABASE_URL: adminUrl },
      maxBuffer: 16 * 1024 * 1024,
    });
    const pid = child.child.pid;
    const { stdout, stderr } = await child;
    // The maillon processes' log lines go to the bench's stderr: the run's log scan reads them too.
    const logFile = process.env['MAILLON_TEST_LOG'];
    if (logFile && stderr) appendFileSync(logFile, stderr.endsWith('\n') ? stderr : `${stderr}\n`);

    expect(stdout).toMatch(/^import +\d+ rows .*\(bulk path; best of [\d.]+ and [\d.]+ s\)$/m);
    expect(stdout).toMatch(/^ {2}psql \\copy of the same CSV into tables without keys or indexes: [\d.]+ s .*import \/ copy = [\d.]+\)$/m);
    expect(stdout).toMatch(/^ {2}psql \\copy of the same CSV into copies of the dossier tables \(keys, indexes, checks, references\): [\d.]+ s .*import \/ copy = [\d.]+\)$/m);
    for (const p of PIPELINES) expect(stdout, p.id).toMatch(new RegExp(`^${p.id} +\\S+ +\\d+ +[\\d.]+ `, 'm'));
    expect(stdout.match(/report: (\d+)\/\1 checks hold/g)).toHaveLength(PIPELINES.length);
    expect(stdout).toContain('career quarantined only listed affiliates, each under its listed rule; no flow emitted a record with a listed bad INSS; every report reconciles');
    expect(stdout).toContain(`targets of issue #7 at ${AFFILIATES} affiliates`);
    expect(stdout).toMatch(/^ {2}every flow's run <= 3x its psql \\copy floor +(met|MISSED) /m);
    expect(stdout).toMatch(/^ {2}peak RSS < 300 MB at any size +(met|MISSED) +[\d.]+ MB/m);
    expect(stdout).toMatch(/^ {2}import at COPY speed \(within 1\.2x\) +(met|MISSED) +[\d.]+x a plain psql \\copy/m);
    expect(stdout).toMatch(/^ {4}\(against a bare psql \\copy into tables without keys, indexes, checks or references: (met|MISSED), [\d.]+x\)$/m);
    // Its database is gone.
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      const left = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [`maillon_bench_${pid}_${AFFILIATES}`]);
      expect(left.rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  }, 240_000);
});
