import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career, careerXml } from '../../pipelines/career.js';
import type { Pool } from '../../src/db/database.js';
import type { AnyPipeline } from '../../src/engine/pipeline.js';
import { type RunRequest, runPipeline } from '../../src/engine/runPipeline.js';
import { LedgerConflictError, OutboxError, SchemaConformanceError } from '../../src/errors/errors.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { cancelUnsent } from '../helpers/ledger.js';
import { ROOT, runDeps, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const request: RunRequest = {
  pipeline: career,
  period: parsePeriod('2026-Q3'),
  environment: 'T',
  sender: '012345',
  asOf: new Date('2026-10-10T02:00:00+02:00'),
  dryRun: false,
};

/** Drops what may differ between two runs of the same data and as-of: creation date and hour. */
function withoutCreationStamp(xml: string): string {
  return xml.replace(/<CreationDate>[^<]*<\/CreationDate>/g, '').replace(/<CreationHour>[^<]*<\/CreationHour>/g, '');
}

async function outboxFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => !n.startsWith('.')).sort();
}

describe('runPipeline', () => {
  let db: TestDatabase;
  let out: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    db = await createTestDatabase();
    out = await scratchDir('engine');
    await importFolder(db.pool, path.join(ROOT, 'fixtures/career/input'));
  });
  afterAll(async () => {
    await db.drop();
    await out.remove();
  });

  it('reproduces the same records for the same as-of: only creation stamps and sequence differ', async () => {
    const a = await runPipeline(runDeps(db.pool, out.dir, '2026-10-10T02:00:00+02:00'), request);
    // The receiver holds the period until its submission is cancelled; then it may be written again.
    await cancelUnsent(db.pool, a.runId);
    const b = await runPipeline(runDeps(db.pool, out.dir, '2026-10-11T03:30:00+02:00'), request);
    const [xa, xb] = await Promise.all([fs.readFile(a.files[0]!.path, 'utf8'), fs.readFile(b.files[0]!.path, 'utf8')]);
    expect(xa).not.toBe(xb);
    expect(withoutCreationStamp(xa)).toBe(withoutCreationStamp(xb));
    const hashes = await db.pool.query(`SELECT run_id, array_agg(record_hash ORDER BY ordinal) AS h FROM maillon.record_outcomes WHERE run_id = ANY($1) AND outcome = 'emitted' GROUP BY run_id`, [
      [a.runId, b.runId],
    ]);
    expect(hashes.rows[0].h).toEqual(hashes.rows[1].h);
  });

  it('never repeats a sequence, also for concurrent runs on the same day', async () => {
    const deps = runDeps(db.pool, out.dir, '2026-10-12T09:00:00+02:00');
    const results = await Promise.all(['2026-Q2', '2026-Q1', '2025-Q4'].map((p) => runPipeline(deps, { ...request, period: parsePeriod(p) })));
    const sequences = results.map((r) => r.files[0]!.sequence).sort();
    expect(sequences).toEqual(['00001', '00002', '00003']);
    const names = results.map((r) => r.files[0]!.name).sort();
    expect(names).toEqual(['FI.CARR.012345.20261012.00001.T.1.1', 'FI.CARR.012345.20261012.00002.T.1.1', 'FI.CARR.012345.20261012.00003.T.1.1']);
    // Another environment has its own sequence.
    const s = await runPipeline(deps, { ...request, environment: 'S' });
    expect(s.files[0]!.name).toBe('FI.CARR.012345.20261012.00001.S.1.1');
  });

  it('two runs of the same period at once: one writes it, the other is refused and writes nothing', async () => {
    const deps = runDeps(db.pool, out.dir, '2026-10-12T10:00:00+02:00');
    const twice = { ...request, period: parsePeriod('2025-Q3') };
    const results = await Promise.allSettled([runPipeline(deps, twice), runPipeline(deps, twice)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(LedgerConflictError);
    const live = await db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions WHERE period = '2025-Q3' AND state <> 'cancelled'`);
    expect(live.rows[0].n).toBe(1);
  });

  it('writes files readable by the owner only, with the sha256 recorded in the ledger', async () => {
    const r = await runPipeline(runDeps(db.pool, out.dir, '2026-10-13T09:00:00+02:00'), { ...request, period: parsePeriod('2025-Q2') });
    const stat = await fs.stat(r.files[0]!.path);
    expect(stat.mode & 0o777).toBe(0o600);
    expect((await fs.stat(out.dir)).mode & 0o777).toBe(0o700);
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256')
      .update(await fs.readFile(r.files[0]!.path))
      .digest('hex');
    const row = await db.pool.query('SELECT sha256, bytes FROM maillon.files WHERE name = $1', [r.files[0]!.name]);
    expect(row.rows[0]).toEqual({ sha256: sha, bytes: String(stat.size) });
  });

  it('dry run: nothing in the outbox, no sequence allocated, nothing recorded but the run', async () => {
    const before = await outboxFiles(out.dir);
    const seq = await db.pool.query('SELECT coalesce(sum(last_value), 0)::int AS n FROM maillon.sequences');
    const r = await runPipeline(runDeps(db.pool, out.dir, '2026-10-14T09:00:00+02:00'), { ...request, dryRun: true });
    expect(r.counts).toEqual({ extracted: 10, emitted: 8, quarantined: 2 });
    expect(r.files).toEqual([]);
    // Its receiver holds 2026-Q3: a dry run is not refused, and says what a real run would meet.
    expect(r.notice).toMatch(/^Nothing was written\. A real run would be refused: career 2026-Q3 \(T\) is already held by its receivers: submission #\d+ \(original, written, to INASTI\)/);
    expect(await outboxFiles(out.dir)).toEqual(before);
    expect((await db.pool.query('SELECT coalesce(sum(last_value), 0)::int AS n FROM maillon.sequences')).rows[0].n).toBe(seq.rows[0].n);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM maillon.record_outcomes WHERE run_id = $1', [r.runId])).rows[0].n).toBe(0);
    expect((await db.pool.query('SELECT state, dry_run FROM maillon.runs WHERE run_id = $1', [r.runId])).rows[0]).toEqual({ state: 'succeeded', dry_run: true });
  });

  it('a file that breaks its XSD is not published, consumes no sequence, and fails the run', async () => {
    const broken: AnyPipeline = {
      ...career,
      output: { kind: 'xml', schema: careerXml.schema, envelope: careerXml.envelope, attestation: (rec, file) => careerXml.attestation!(rec, file).replace('<Quarter>', '<Quarter>X') },
    };
    const before = await outboxFiles(out.dir);
    const deps = runDeps(db.pool, out.dir, '2026-10-15T09:00:00+02:00');
    const period = parsePeriod('2025-Q1');
    await expect(runPipeline(deps, { ...request, period, pipeline: broken })).rejects.toBeInstanceOf(SchemaConformanceError);
    expect(await outboxFiles(out.dir)).toEqual(before);
    expect(await fs.readdir(path.join(out.dir, '.tmp'))).toEqual([]);
    const failed = await db.pool.query(`SELECT state, error_class FROM maillon.runs ORDER BY run_id DESC LIMIT 1`);
    expect(failed.rows[0]).toEqual({ state: 'failed', error_class: 'SchemaConformanceError' });
    // The next good run of that day gets sequence 00001: the failed one consumed none.
    const ok = await runPipeline(deps, { ...request, period });
    expect(ok.files[0]!.sequence).toBe('00001');
  });

  it("a file that fails the flow's own line check is not published either, and the error says what is wrong", async () => {
    const checked: AnyPipeline = {
      ...career,
      output: { ...careerXml, check: () => ({ line: () => undefined, end: () => 'declared 2 records, the file holds 3' }) },
    };
    const before = await outboxFiles(out.dir);
    const deps = runDeps(db.pool, out.dir, '2026-10-16T09:00:00+02:00');
    const err = await runPipeline(deps, { ...request, period: parsePeriod('2024-Q4'), pipeline: checked }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaConformanceError);
    expect((err as Error).message).toContain('declared 2 records, the file holds 3');
    expect(await outboxFiles(out.dir)).toEqual(before);
    const seq = await db.pool.query(`SELECT count(*)::int AS n FROM maillon.sequences WHERE creation_date = '2026-10-16'`);
    expect(seq.rows[0].n).toBe(0);
  });

  it('records a run as failed when its outbox cannot be prepared, so that no run stays "running"', async () => {
    // A regular file where the outbox folder should be: the run stops after being recorded, before its transaction.
    const notAFolder = path.join(out.dir, '..', `${path.basename(out.dir)}-not-a-folder`);
    await fs.writeFile(notAFolder, '');
    try {
      const err = await runPipeline(runDeps(db.pool, notAFolder, '2026-10-17T09:00:00+02:00'), { ...request, period: parsePeriod('2024-Q3') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutboxError);
      expect((err as Error).message).toMatch(/^Cannot prepare the outbox .*not-a-folder: .* Set MAILLON_OUTBOX to a writable folder\.$/);
      const last = await db.pool.query(`SELECT state, error_class, finished_at IS NOT NULL AS ended FROM maillon.runs ORDER BY run_id DESC LIMIT 1`);
      expect(last.rows[0]).toEqual({ state: 'failed', error_class: 'OutboxError', ended: true });
    } finally {
      await fs.rm(notAFolder, { force: true });
    }
  });

  it('moves aside a file left under the next name by a process killed before its commit, instead of failing', async () => {
    const deps = runDeps(db.pool, out.dir, '2026-10-20T09:00:00+02:00');
    const orphan = path.join(out.dir, 'FI.CARR.012345.20261020.00001.T.1.1');
    await fs.writeFile(orphan, 'left by a killed run');
    const r = await runPipeline(deps, { ...request, period: parsePeriod('2024-Q2') });
    expect(r.files[0]!.name).toBe('FI.CARR.012345.20261020.00001.T.1.1');
    expect(await fs.readFile(orphan, 'utf8')).not.toBe('left by a killed run');
    // Named after the run that found it: the time is read from the clock only.
    expect(await fs.readdir(path.join(out.dir, '.orphans'))).toContain(`FI.CARR.012345.20261020.00001.T.1.1.run${r.runId}`);
  });

  /**
   * The ledger as the run sees it, with the run's final COMMIT (the second on its session: the
   * first records the run's start) answered by `lose`: a real COMMIT whose answer is lost, or a
   * ROLLBACK reported as a failed COMMIT.
   */
  function lossyLedger(lose: 'answer' | 'commit'): { ledger: Pool; intercepted: () => boolean } {
    let commits = 0;
    const ledger = {
      query: (...args: unknown[]) => (db.pool.query as (...a: unknown[]) => unknown)(...args),
      connect: async () => {
        const client = await db.pool.connect();
        const query = client.query.bind(client) as (sql: unknown, ...rest: unknown[]) => Promise<unknown>;
        (client as unknown as { query: unknown }).query = (sql: unknown, ...rest: unknown[]) => {
          if (sql !== 'COMMIT' || ++commits !== 2) return query(sql, ...rest);
          return query(lose === 'answer' ? 'COMMIT' : 'ROLLBACK').then(() => Promise.reject(new Error('Connection terminated unexpectedly')));
        };
        return client;
      },
    } as unknown as Pool;
    return { ledger, intercepted: () => commits >= 2 };
  }
  const stateOfRun = async (runId: number): Promise<{ state: string; submissions: string[] }> => ({
    state: (await db.pool.query('SELECT state FROM maillon.runs WHERE run_id = $1', [runId])).rows[0].state,
    submissions: (await db.pool.query('SELECT state FROM maillon.submissions WHERE run_id = $1', [runId])).rows.map((r) => r.state),
  });

  it('the answer to its COMMIT lost while the ledger committed: the run succeeded, its files stay in the outbox', async () => {
    const lossy = lossyLedger('answer');
    const r = await runPipeline({ ...runDeps(db.pool, out.dir, '2026-10-21T09:00:00+02:00'), ledger: lossy.ledger }, { ...request, period: parsePeriod('2024-Q1') });
    expect(lossy.intercepted()).toBe(true);
    expect(await stateOfRun(r.runId)).toEqual({ state: 'succeeded', submissions: ['written'] });
    for (const f of r.files) expect((await fs.stat(f.path)).size).toBe(f.bytes);
  });

  it('a COMMIT that failed and committed nothing: the run failed, its files are removed', async () => {
    const lossy = lossyLedger('commit');
    const before = await outboxFiles(out.dir);
    const err = await runPipeline({ ...runDeps(db.pool, out.dir, '2026-10-22T09:00:00+02:00'), ledger: lossy.ledger }, { ...request, period: parsePeriod('2023-Q4') }).catch((e: Error) => e);
    expect(lossy.intercepted()).toBe(true);
    expect(err).toBeInstanceOf(Error);
    const runId = Number((await db.pool.query("SELECT max(run_id) AS id FROM maillon.runs WHERE period = '2023-Q4'")).rows[0].id);
    expect(await stateOfRun(runId)).toEqual({ state: 'failed', submissions: [] });
    expect(await outboxFiles(out.dir)).toEqual(before);
  });
});
