import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import { runPipeline, type RunDeps, type RunRequest } from '../../src/engine/runPipeline.js';
import { OutboxError } from '../../src/errors/errors.js';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { importFolder } from '../../src/import/importFolder.js';
import { formatPeriod, parsePeriod } from '../../src/period/period.js';
import { maillonUnderLimit } from '../helpers/cli.js';
import { runDeps, scratchDir } from '../helpers/runHarness.js';
import { tools } from '../helpers/systemTools.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/**
 * How the failing run meets a full disk. As root (CI): its outbox or documents on a 256 KiB
 * tmpfs the test mounts, the run in this process (ENOSPC). Otherwise (systemTools.ts names it in
 * the run's closing line): the same run as `maillon run` under RLIMIT_FSIZE (prlimit), where a
 * write past the limit fails with EFBIG through the same code path.
 */
const ROOTED = tools().root !== null;
const NO_SPACE = ROOTED ? 'ENOSPC' : 'EFBIG';

/** The outbox, then the printable documents, on a disk that fills up in the middle of the run. */
describe('outbox disk full', () => {
  let db: TestDatabase;
  let tmp: { dir: string; remove: () => Promise<void> };
  let small: string;
  const request = { pipeline: career, period: parsePeriod('2026-Q3'), environment: 'T' as const, sender: '012345', asOf: new Date('2026-10-10T00:00:00Z'), dryRun: false };

  beforeAll(async () => {
    db = await createTestDatabase();
    tmp = await scratchDir('diskfull');
    const data = path.join(tmp.dir, 'data');
    await generateDataset({ affiliates: 2000, seed: 4, out: data, invalidRate: 0, lastQuarter: parsePeriod('2026-Q3') });
    await importFolder(db.pool, data);
    small = path.join(tmp.dir, 'small');
    await fs.mkdir(small);
    if (ROOTED) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small]);
  });
  afterAll(async () => {
    if (small && ROOTED) execFileSync('umount', [small]);
    await db?.drop();
    await tmp?.remove();
  });

  it('fails with a clear error, leaves no partial file and consumes no sequence; the next run with space gets 00001', async () => {
    const outbox = path.join(small, 'outbox');
    const message = await failingRun(runDeps(db.pool, outbox), request, { MAILLON_OUTBOX: outbox }, 256 * 1024);
    expect(message).toMatch(new RegExp(`Cannot write .*: ${NO_SPACE}.*Free disk space`));
    expect(await fs.readdir(outbox)).toEqual(['.tmp']);
    expect(await fs.readdir(path.join(outbox, '.tmp'))).toEqual([]);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM maillon.sequences')).rows[0].n).toBe(0);
    expect((await db.pool.query(`SELECT state, error_class FROM maillon.runs`)).rows).toEqual([{ state: 'failed', error_class: 'OutboxError' }]);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM maillon.files')).rows[0].n).toBe(0);
    const ok = await runPipeline(runDeps(db.pool, path.join(tmp.dir, 'outbox')), request);
    expect(ok.files[0]!.sequence).toBe('00001');
  });

  it('the printable documents on a full disk: a clear error naming their archive, nothing kept, no file published, no sequence consumed', async () => {
    const outbox = path.join(tmp.dir, 'outbox-tax');
    const documentsDir = path.join(small, 'documents');
    const tax = { ...request, pipeline: taxAttestations, period: parsePeriod('2025'), asOf: new Date('2026-02-10T00:00:00Z') };
    const message = await failingRun({ ...runDeps(db.pool, outbox), documentsDir }, tax, { MAILLON_OUTBOX: outbox, MAILLON_DOCUMENTS: documentsDir }, 2 * 1024 * 1024);
    expect(message).toMatch(
      new RegExp(`^The printable documents could not be written: Cannot write .*documents\\.tar: ${NO_SPACE}.*Free disk space there \\(or fix the folder's permissions\\), then run again\\.$`),
    );
    // The run's temporary folder is gone: nothing half-written stays on the full disk.
    expect(await fs.readdir(documentsDir, { recursive: true })).toEqual(['.tmp']);
    expect(await fs.readdir(outbox)).toEqual(['.tmp']);
    expect(await fs.readdir(path.join(outbox, '.tmp'))).toEqual([]);
    const runs = await db.pool.query(`SELECT state, error_class FROM maillon.runs WHERE flow = 'tax-attestations'`);
    expect(runs.rows).toEqual([{ state: 'failed', error_class: 'OutboxError' }]);
    const files = await db.pool.query(`SELECT count(*)::int AS n FROM maillon.files f JOIN maillon.runs r USING (run_id) WHERE r.flow = 'tax-attestations'`);
    expect(files.rows[0].n).toBe(0);
    const sequences = await db.pool.query(`SELECT count(*)::int AS n FROM maillon.sequences`);
    expect(sequences.rows[0].n).toBe(1); // the career file of the test above, nothing more
    const ok = await runPipeline({ ...runDeps(db.pool, outbox), documentsDir: path.join(tmp.dir, 'documents') }, tax);
    expect(ok.documents.count).toBeGreaterThan(1000);
  });

  /**
   * The run that meets the full disk; returns its error's message. As root: in this process,
   * on the tmpfs. Otherwise: `maillon run` with the same request, its files limited to
   * `limit` bytes each; it must end with exit 7 (OutboxError) and say why on stderr.
   */
  async function failingRun(deps: RunDeps, r: RunRequest, env: Record<string, string>, limit: number): Promise<string> {
    if (ROOTED) {
      const err = await runPipeline(deps, r).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutboxError);
      return (err as Error).message;
    }
    const args = ['run', r.pipeline.id, '--period', formatPeriod(r.period), '--as-of', r.asOf!.toISOString()];
    const out = await maillonUnderLimit(limit, args, {
      DATABASE_URL: db.url,
      MAILLON_HOME: path.join(tmp.dir, 'home'),
      MAILLON_SENDER: r.sender,
      MAILLON_ENV: r.environment,
      ...env,
    });
    expect(out.code, out.stderr).toBe(7);
    return /^maillon: (.*)$/m.exec(out.stderr)?.[1] ?? out.stderr;
  }
});
