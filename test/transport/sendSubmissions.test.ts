import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { connect } from '../../src/db/database.js';
import { ConfigError } from '../../src/errors/errors.js';
import { LOCK } from '../../src/ledger/locks.js';
import { createLogger } from '../../src/log/logger.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { type SendDeps, sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { cancelUnsent, submissionsOf } from '../helpers/ledger.js';
import { ROOT } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

/** A delivery stopped right after its GO was written, before the ledger recorded it (what SIGKILL does there). */
const crashAfterGo = (step: string): void => {
  if (step === 'after-go') throw new Error('stopped after the GO (test)');
};

const sha = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

describe('sending submissions to a real OpenSSH SFTP server', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let endpointsFile: string;

  const deps = (file = endpointsFile): SendDeps => ({
    ledger: fx.db.pool,
    clock: fixedClock('2026-10-10T03:00:00+02:00'),
    logger: createLogger('silent'),
    endpoints: loadEndpoints(file),
    passphrase: () => undefined,
    backoffMs: 10,
  });

  const writeEndpoints = (file: string, overrides: Record<string, unknown> = {}): Promise<string> => writeReceiversFile(sshd, file, overrides);

  const inbox = async (): Promise<string[]> => (await fs.readdir(path.join(sshd.root, 'IN'))).sort();

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    endpointsFile = await writeEndpoints(path.join(path.dirname(fx.outbox), 'receivers.json'));
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('uploads the data file, verifies it, renames it, then writes the empty GO; the ledger records the attempt', async () => {
    const run = await fx.run(career, '2026-Q3');
    const [out] = await sendSubmissions(deps());
    expect(out).toMatchObject({ result: 'sent', receiver: 'INASTI', go: 'GO.CARR.012345.20261010.00001.T.1' });
    expect(await inbox()).toEqual(['FI.CARR.012345.20261010.00001.T.1.1', 'GO.CARR.012345.20261010.00001.T.1']);
    expect(await sha(path.join(sshd.root, 'IN', run.files[0]!.name))).toBe(run.files[0]!.sha256);
    expect((await fs.stat(path.join(sshd.root, 'IN', 'GO.CARR.012345.20261010.00001.T.1'))).size).toBe(0);
    const ledger = await fx.db.pool.query(`SELECT s.state, a.outcome, a.host_key FROM maillon.submissions s JOIN maillon.transfer_attempts a USING (submission_id)`);
    expect(ledger.rows).toEqual([{ state: 'sent', outcome: 'sent', host_key: sshd.hostKeyFingerprint }]);
    expect(await sendSubmissions(deps())).toEqual([]);
  });

  it('completes a submission interrupted mid-upload, without a partial or duplicate file', async () => {
    const run = await fx.run(career, '2026-Q2');
    const name = run.files[0]!.name;
    await fs.writeFile(path.join(sshd.root, 'IN', `.${name}.part`), 'half a file');
    const [out] = await sendSubmissions(deps());
    expect(out!.result).toBe('sent');
    const files = await inbox();
    expect(files.filter((n) => n.includes('.part'))).toEqual([]);
    expect(files.filter((n) => n.startsWith('FI.') && n.includes('.00002.'))).toEqual([name]);
    expect(await sha(path.join(sshd.root, 'IN', name))).toBe(run.files[0]!.sha256);
  });

  it('after a crash between the GO and the ledger update, a new send writes no second GO', async () => {
    const run = await fx.run(career, '2026-Q1');
    // The process stops right after the GO: the ledger still says written, with the GO started.
    const [cut] = await sendSubmissions({ ...deps(), onStep: crashAfterGo });
    expect(cut!.result).toBe('failed');
    const goPath = path.join(sshd.root, 'IN', `GO.CARR.012345.20261010.${run.files[0]!.sequence}.T.1`);
    const before = await fs.stat(goPath);
    const [out] = await sendSubmissions(deps());
    expect(out!.result).toBe('sent');
    expect((await fs.stat(goPath)).mtimeMs).toBe(before.mtimeMs);
    const attempts = await fx.db.pool.query(`SELECT detail->>'go' AS go FROM maillon.transfer_attempts a JOIN maillon.submissions s USING (submission_id) WHERE s.run_id = $1 ORDER BY attempt_id`, [
      run.runId,
    ]);
    expect(attempts.rows.map((r) => r.go)).toEqual([null, 'already-there']);
  });

  it('treats a submission whose GO was started and whose files the receiver took away as delivered', async () => {
    const run = await fx.run(career, '2025-Q4');
    await sendSubmissions({ ...deps(), onStep: crashAfterGo });
    for (const n of await inbox()) if (n.includes(`.${run.files[0]!.sequence}.`)) await fs.rm(path.join(sshd.root, 'IN', n));
    const [out] = await sendSubmissions(deps());
    expect(out!.result).toBe('sent');
    expect((await inbox()).filter((n) => n.includes(`.${run.files[0]!.sequence}.`))).toEqual([]);
  });

  it('refuses a server whose host key is not the pinned one, and sends nothing', async () => {
    const run = await fx.run(career, '2025-Q3');
    const wrong = await writeEndpoints(path.join(path.dirname(fx.outbox), 'wrong-key.json'), { hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` });
    const before = await inbox();
    const [out] = await sendSubmissions(deps(wrong));
    expect(out!.result).toBe('failed');
    expect(out!.error).toContain(`presented host key ${sshd.hostKeyFingerprint}, not the pinned SHA256:${'A'.repeat(43)}`);
    expect(await inbox()).toEqual(before);
    const attempts = await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.transfer_attempts a JOIN maillon.submissions s USING (submission_id) WHERE s.run_id = $1`, [run.runId]);
    expect(attempts.rows[0].n).toBe(1); // not retryable: one attempt only
    await cancelUnsent(fx.db.pool, run.runId);
  });

  it('refuses a private key readable by others, like OpenSSH', async () => {
    const loose = path.join(path.dirname(fx.outbox), 'loose_key');
    await fs.copyFile(sshd.privateKeyPath, loose);
    await fs.chmod(loose, 0o644);
    await fx.run(career, '2025-Q2');
    const file = await writeEndpoints(path.join(path.dirname(fx.outbox), 'loose.json'), { privateKeyPath: loose });
    const [out] = await sendSubmissions(deps(file));
    expect(out!.result).toBe('failed');
    expect(out!.error).toContain('is readable by others (mode 644)');
    expect(() => loadEndpoints(path.join(path.dirname(fx.outbox), 'missing.json'))).toThrow(ConfigError);
  });

  it('a replacement waits while the original it replaces is not delivered (being sent elsewhere, or failed); the next send delivers both in order', async () => {
    const run = await fx.run(career, '2025-Q1');
    const replacement = await fx.replaceWhole(career, '2025-Q1');
    const [original] = await submissionsOf(fx.db.pool, run.runId);
    const [replacing] = await submissionsOf(fx.db.pool, replacement.runId);
    const goOf = (r: typeof run): string => `GO.CARR.012345.20261010.${r.files[0]!.sequence}.T.1`;
    // Another maillon process is delivering the original.
    const other = await connect(fx.db.pool);
    await other.query('SELECT pg_advisory_lock($1, $2)', [LOCK.submission, original!]);
    try {
      const outcomes = await sendSubmissions(deps(), { period: '2025-Q1' });
      expect(outcomes.map((o) => [o.submissionId, o.result])).toEqual([
        [original, 'skipped-locked'],
        [replacing, 'waiting'],
      ]);
      expect(outcomes[1]!.reason).toBe(`submission #${original}, an earlier version of the same period for INASTI, is not delivered yet`);
      expect(await inbox()).not.toContain(goOf(replacement));
    } finally {
      await other.query('SELECT pg_advisory_unlock_all()');
      other.release();
    }
    const outcomes = await sendSubmissions(deps(), { period: '2025-Q1' });
    expect(outcomes.map((o) => [o.submissionId, o.result])).toEqual([
      [original, 'sent'],
      [replacing, 'sent'],
    ]);
    const sentAt = async (id: number): Promise<number> =>
      (await fx.db.pool.query('SELECT attempt_id FROM maillon.transfer_attempts WHERE submission_id = $1 AND outcome = $2', [id, 'sent'])).rows[0].attempt_id;
    expect(Number(await sentAt(original!))).toBeLessThan(Number(await sentAt(replacing!)));
    expect(await inbox()).toContain(goOf(replacement));
  });
});
