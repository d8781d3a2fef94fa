import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { PIPELINES } from '../../pipelines/index.js';
import { ROOT } from '../helpers/runHarness.js';

const run = promisify(execFile);
const AFFILIATES = 3000;

const LIFECYCLE_STEPS = ['send', 'acks', 'report json', 'report csv', 'report html', 'rerun career', 'rerun tax-attestations', 'evidence'];

/**
 * `npm run bench -- --lifecycle` at a small size, so that the benchmark keeps working as the code
 * changes: every step runs, the quarantine matches the generator's list, every report reconciles
 * (the bench fails otherwise), the import is timed next to both copies of the same CSV, then the
 * lifecycle runs every step against its floor with its checks (send to a real OpenSSH server,
 * replies, reports, reruns, evidence: any check that fails makes the bench exit 1), and both sets
 * of targets are judged. Speed is not judged here: that is the benchmark's own job, at scale
 * (see the README and bench/LIFECYCLE.md).
 */
describe('npm run bench', () => {
  it('generates, imports, runs every flow, checks the quarantine and the reports, lives the period to its end, and judges the targets', async () => {
    const adminUrl = inject('adminUrl');
    const child = run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--affiliates', String(AFFILIATES), '--lifecycle'], {
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
    expect(stdout).toContain(`targets of the runs at ${AFFILIATES} affiliates`);
    expect(stdout).toMatch(/^ {2}every flow's run <= 3x its psql \\copy floor +(met|MISSED) /m);
    expect(stdout).toMatch(/^ {2}peak RSS < 300 MB at any size +(met|MISSED) +[\d.]+ MB/m);
    expect(stdout).toMatch(/^ {2}import at COPY speed \(within 1\.2x\) +(met|MISSED) +[\d.]+x a plain psql \\copy/m);
    expect(stdout).toMatch(/^ {4}\(against a bare psql \\copy into tables without keys, indexes, checks or references: (met|MISSED), [\d.]+x\)$/m);
    // The lifecycle: every step measured against its floor, every check held.
    expect(stdout).not.toContain('CHECK FAILED');
    for (const step of LIFECYCLE_STEPS) expect(stdout, step).toMatch(new RegExp(`^${step} +[\\d.]+ +[\\d.]+ +[\\d.]+ +[\\d.]+  \\S`, 'm'));
    expect(stdout).toMatch(/^send .* sftp -b of the same \d+ files, [\d.]+ MB \(best of 3\); (\d+) submissions sent$/m);
    expect(stdout).toMatch(/^acks .* psql \\copy of the same [1-9]\d* anomaly rows .*; \d+ replies applied, [1-9]\d* evidence packs written$/m);
    expect(stdout).toMatch(/^rerun career .* new [1-9]\d*, changed [1-9]\d*, vanished [1-9]\d*, unchanged \d+$/m);
    expect(stdout).toContain(`targets of the lifecycle at ${AFFILIATES} affiliates`);
    expect(stdout).toMatch(/^ {2}every maillon process's peak RSS < 256 MiB +(met|MISSED) +[\d.]+ MiB/m);
    for (const step of LIFECYCLE_STEPS) expect(stdout, step).toMatch(new RegExp(`^ {2}${step} <= [\\d.]+x its floor +(met|MISSED) +[\\d.]+ \\(`, 'm'));
    expect(stdout).toMatch(/^ {2}every flow's run <= 2x its psql \\copy floor +(met|MISSED) /m);
    // Its database is gone.
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      const left = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [`maillon_bench_${pid}_${AFFILIATES}`]);
      expect(left.rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  }, 600_000);
});
