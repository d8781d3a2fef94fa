import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { OutboxError } from '../../src/errors/errors.js';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { runDeps, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** The outbox, then the printable documents, on a small tmpfs mounted by the test (needs root, as CI has). */
describe('outbox disk full', () => {
  let db: TestDatabase;
  let tmp: { dir: string; remove: () => Promise<void> };
  let small: string;
  const request = { pipeline: career, period: parsePeriod('2026-Q3'), environment: 'T' as const, sender: '012345', asOf: new Date('2026-10-10T00:00:00Z'), dryRun: false };

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs and needs root (CI runs as root)');
    db = await createTestDatabase();
    tmp = await scratchDir('diskfull');
    const data = path.join(tmp.dir, 'data');
    await generateDataset({ affiliates: 2000, seed: 4, out: data, invalidRate: 0, lastQuarter: parsePeriod('2026-Q3') });
    await importFolder(db.pool, data);
    small = path.join(tmp.dir, 'small');
    await fs.mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small]);
  });
  afterAll(async () => {
    if (small) execFileSync('umount', [small]);
    await db?.drop();
    await tmp?.remove();
  });

  it('fails with a clear error, leaves no partial file and consumes no sequence; the next run with space gets 00001', async () => {
    const outbox = path.join(small, 'outbox');
    const err = await runPipeline(runDeps(db.pool, outbox), request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboxError);
    expect((err as Error).message).toMatch(/Cannot write .*: ENOSPC.*Free disk space/);
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
    const err = await runPipeline({ ...runDeps(db.pool, outbox), documentsDir }, tax).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboxError);
    expect((err as Error).message).toMatch(/^The printable documents could not be written: Cannot write .*documents\.tar: ENOSPC.*Free disk space there \(or fix the folder's permissions\), then run again\.$/);
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
});
