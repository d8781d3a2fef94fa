import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import { createLogger } from '../../src/log/logger.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { simulateReceiver } from '../../src/simulate/simulateReceiver.js';
import { cancelSubmission } from '../../src/transport/cancelSubmission.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { submissionsOf } from '../helpers/ledger.js';
import { ROOT } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

/** `cancel` against a real OpenSSH server: never both a cancel and a delivery (issue 20). */
describe('cancelling a submission whose GO may be on the server', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let receivers: string;
  let env: Record<string, string>;
  const clock = fixedClock('2026-10-10T03:00:00+02:00');
  const inbox = async (): Promise<string[]> => (await fs.readdir(path.join(sshd.root, 'IN'))).sort();
  const events = async (id: number): Promise<string[]> => (await fx.db.pool.query('SELECT kind FROM maillon.events WHERE submission_id = $1 ORDER BY event_id', [id])).rows.map((r) => r.kind);
  const stateOf = async (id: number): Promise<string> => (await fx.db.pool.query('SELECT state FROM maillon.submissions WHERE submission_id = $1', [id])).rows[0].state;

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    receivers = await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers.json'));
    env = { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox), MAILLON_SENDER: '012345', MAILLON_RECEIVERS: receivers };
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('cancel after a send killed after its GO (still written in the ledger) checks the server and writes the TD', async () => {
    const run = await fx.run(career, '2026-Q3');
    const [id] = await submissionsOf(fx.db.pool, run.runId);
    const crashed = await maillon(['send', '--no-acks'], { ...env, MAILLON_CRASH_AT: 'after-go' });
    expect(crashed.signal).toBe('SIGKILL');
    const stem = run.files[0]!.name.slice(3, -4);
    expect(await inbox()).toContain(`GO.${stem}.1`);
    expect(await stateOf(id!)).toBe('written');
    const cancel = await maillon(['cancel', String(id)], env);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`submission #${id} cancelled: TD file written`);
    expect(await inbox()).toContain(`TD.${stem}.1`);
    expect(await stateOf(id!)).toBe('cancelled');
    expect(await events(id!)).toEqual(['written', 'cancelled']);
    // The receiver sees the TD beside the GO and drops the submission: no reply, nothing processed.
    const pass = await simulateReceiver({ root: sshd.root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock });
    expect(pass.replies).toEqual([]);
    const again = await maillon(['send', '--no-acks'], env);
    expect(again.stdout.trim()).toBe('nothing to send');
  });

  it('cancel of a sent submission whose GO the receiver took, its data file still there: refused (exit 8), no TD, still sent', async () => {
    const run = await fx.run(career, '2025-Q4');
    const [id] = await submissionsOf(fx.db.pool, run.runId);
    const sent = await maillon(['send', '--no-acks'], env);
    expect(sent.code, sent.stderr).toBe(0);
    const stem = run.files[0]!.name.slice(3, -4);
    // The receiver claims the submission by taking its GO; it reads the data file next.
    await fs.rm(path.join(sshd.root, 'IN', `GO.${stem}.1`));
    const cancel = await maillon(['cancel', String(id)], env);
    expect(cancel.code).toBe(8);
    expect(cancel.stderr).toContain(`The receiver has already taken GO.${stem}.1 from its IN folder: submission #${id} cannot be cancelled any more.`);
    expect(await inbox()).not.toContain(`TD.${stem}.1`);
    expect(await stateOf(id!)).toBe('sent');
    expect(await events(id!)).toEqual(['written', 'sent']);
  });

  it('cancel of an original that a written replacement builds on: refused (exit 8) until the replacement is cancelled first', async () => {
    const run = await fx.run(career, '2025-Q3');
    const replacement = await fx.replaceWhole(career, '2025-Q3');
    const [original] = await submissionsOf(fx.db.pool, run.runId);
    const [replacing] = await submissionsOf(fx.db.pool, replacement.runId);
    const refused = await maillon(['cancel', String(original)], env);
    expect(refused.code).toBe(8);
    expect(refused.stderr).toContain(`Submission #${replacing}, a replacement of career 2025-Q3 for INASTI (written), builds on submission #${original}`);
    expect(refused.stderr).toContain(`Cancel #${replacing} first (maillon cancel ${replacing}), then #${original}.`);
    expect(await stateOf(original!)).toBe('written');
    expect((await maillon(['cancel', String(replacing)], env)).code).toBe(0);
    expect((await maillon(['cancel', String(original)], env)).code).toBe(0);
    expect([await stateOf(original!), await stateOf(replacing!)]).toEqual(['cancelled', 'cancelled']);
  });

  it("acks reads the receiver's replies to a submission whose send was killed after its GO", async () => {
    const run = await fx.run(career, '2026-Q1');
    const [id] = await submissionsOf(fx.db.pool, run.runId);
    const crashed = await maillon(['send', '--no-acks'], { ...env, MAILLON_CRASH_AT: 'after-go' });
    expect(crashed.signal).toBe('SIGKILL');
    expect(await stateOf(id!)).toBe('written');
    // The receiver took the submission (its GO was there) and answered before any new send.
    const pass = await simulateReceiver({ root: sshd.root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock });
    expect(pass.replies.length).toBe(2);
    const acks = await maillon(['acks', '--json'], env);
    expect(acks.code, acks.stderr).toBe(0);
    expect((JSON.parse(acks.stdout) as { result: string }[]).filter((o) => o.result === 'processed').length).toBe(2);
    expect(await stateOf(id!)).toBe('accepted');
  });

  it('cancel during a running send of the same submission: the cancel is refused (exit 8), the send completes, the events read written, sent', async () => {
    const run = await fx.run(career, '2026-Q2');
    const [id] = await submissionsOf(fx.db.pool, run.runId);
    const cancelDeps = { ledger: fx.db.pool, clock, logger: createLogger('silent'), endpoints: loadEndpoints(receivers), passphrase: () => undefined };
    let cancelled: unknown = null;
    const [sent] = await sendSubmissions({
      ledger: fx.db.pool,
      clock,
      logger: createLogger('silent'),
      endpoints: loadEndpoints(receivers),
      passphrase: () => undefined,
      backoffMs: 10,
      // The operator cancels while the data file is on the server and the GO not yet written.
      onStep: async (step) => {
        if (step === 'after-upload') cancelled = await cancelSubmission(cancelDeps, id!).catch((err: unknown) => err);
      },
    });
    expect(cancelled).toBeInstanceOf(Error);
    expect((cancelled as { exitCode: number }).exitCode).toBe(8);
    expect((cancelled as Error).message).toContain(`Submission #${id} is being sent by another maillon process right now; it was not cancelled.`);
    expect(sent).toMatchObject({ submissionId: id, result: 'sent' });
    expect(await stateOf(id!)).toBe('sent');
    expect(await events(id!)).toEqual(['written', 'sent']);
    // Once the send is over, the cancel goes through: the GO still waits, so the TD is written.
    expect(await cancelSubmission(cancelDeps, id!)).toBe('td-written');
    expect(await events(id!)).toEqual(['written', 'sent', 'cancelled']);
  });
});
