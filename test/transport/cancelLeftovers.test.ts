import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { withTransaction } from '../../src/db/database.js';
import { freePort } from '../../src/db/embeddedPostgres.js';
import { transitionSubmission } from '../../src/ledger/transitions.js';
import { createLogger } from '../../src/log/logger.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { submissionsOf } from '../helpers/ledger.js';
import { ROOT } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

/**
 * `cancel` of a submission whose send stopped before its GO was started (killed after its data
 * files were renamed, or refused by the ledger after its temporary GO was written), against a
 * real OpenSSH server: what the send left in the receiver's IN folder (personal data, never
 * announced by a GO) is removed, and the cancel says so.
 */
describe('cancelling a submission a send left on the server without its GO', { timeout: 120_000 }, () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let env: Record<string, string>;
  const clock = fixedClock('2026-10-10T03:00:00+02:00');
  const inbox = async (stem: string): Promise<string[]> => (await fs.readdir(path.join(sshd.root, 'IN'))).filter((n) => n.includes(stem)).sort();
  const stateOf = async (id: number): Promise<string> => (await fx.db.pool.query('SELECT state FROM maillon.submissions WHERE submission_id = $1', [id])).rows[0].state;
  const written = async (period: string): Promise<{ id: number; stem: string }> => {
    const run = await fx.run(career, period);
    const [id] = await submissionsOf(fx.db.pool, run.runId);
    return { id: id!, stem: run.files[0]!.name.slice(3, -4) };
  };

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    const receivers = await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers.json'));
    env = { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox), MAILLON_SENDER: '012345', MAILLON_RECEIVERS: receivers };
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('send killed after renaming its data file: cancel refuses while the server cannot be reached (exit 11), then removes the data file and says so', async () => {
    const { id, stem } = await written('2026-Q3');
    const crashed = await maillon(['send', '--no-acks'], { ...env, MAILLON_CRASH_AT: 'after-rename' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(await inbox(stem)).toEqual([`FI.${stem}.1.1`]);
    expect(await stateOf(id)).toBe('written');

    // Nothing listens there: the data file cannot be removed, so the cancel is not recorded.
    const down = await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers-down.json'), { port: await freePort() });
    const refused = await maillon(['cancel', String(id)], { ...env, MAILLON_RECEIVERS: down });
    expect(refused.code, refused.stderr).toBe(11);
    expect(refused.stderr).toContain(`Submission #${id} was not cancelled: a send of it was attempted, so its data files may be in the receiver's IN folder`);
    expect(refused.stderr).toContain(`Run maillon cancel ${id} again once it can be reached.`);
    expect(await stateOf(id)).toBe('written');
    expect(await inbox(stem)).toEqual([`FI.${stem}.1.1`]);

    const cancel = await maillon(['cancel', String(id)], env);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(
      `submission #${id} cancelled (its GO was never started, so the receiver never took its files); removed from the receiver's IN folder what an earlier send had left there: FI.${stem}.1.1`,
    );
    expect(await inbox(stem)).toEqual([]);
    expect(await stateOf(id)).toBe('cancelled');
    const again = await maillon(['send', '--no-acks'], env);
    expect(again.stdout.trim()).toBe('nothing to send');
  });

  it('send refused by the ledger after writing its temporary GO (its base rejected meanwhile): the temporary GO goes at once, cancel removes the data file', async () => {
    const original = await written('2026-Q2');
    expect((await maillon(['send', '--no-acks'], env)).code).toBe(0);
    const replacement = await fx.replaceWhole(career, '2026-Q2');
    const [id] = await submissionsOf(fx.db.pool, replacement.runId);
    const stem = replacement.files[0]!.name.slice(3, -4);
    const [sent] = await sendSubmissions({
      ledger: fx.db.pool,
      clock,
      logger: createLogger('silent'),
      endpoints: loadEndpoints(env.MAILLON_RECEIVERS!),
      passphrase: () => undefined,
      backoffMs: 10,
      // The receiver rejects the original while the replacement's data file is in place, before its GO is recorded.
      onStep: async (step) => {
        if (step !== 'after-rename') return;
        await withTransaction(fx.db.pool, (tx) => transitionSubmission(tx, { submissionId: original.id, from: ['sent'], to: 'rejected', at: clock.now(), event: { kind: 'rejected', detail: {} } }));
      },
    });
    expect(sent).toMatchObject({ submissionId: id, result: 'failed', error: expect.stringContaining('its GO was not written') });
    expect(await stateOf(id!)).toBe('written');
    expect(await inbox(stem)).toEqual([`FI.${stem}.1.1`]);

    const cancel = await maillon(['cancel', String(id)], env);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`removed from the receiver's IN folder what an earlier send had left there: FI.${stem}.1.1`);
    expect(await inbox(stem)).toEqual([]);
    expect(await stateOf(id!)).toBe('cancelled');
  });

  it('sends that never reached the server left nothing there: cancel withdraws the submission without connecting', async () => {
    const { id, stem } = await written('2026-Q1');
    const down = await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers-down-q1.json'), { port: await freePort(), retries: 1 });
    const [sent] = await sendSubmissions({ ledger: fx.db.pool, clock, logger: createLogger('silent'), endpoints: loadEndpoints(down), passphrase: () => undefined, backoffMs: 10 });
    expect(sent).toMatchObject({ submissionId: id, result: 'failed' });
    const attempts = (await fx.db.pool.query('SELECT host_key FROM maillon.transfer_attempts WHERE submission_id = $1', [id])).rows;
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.every((a) => a.host_key === null)).toBe(true);

    const cancel = await maillon(['cancel', String(id)], { ...env, MAILLON_RECEIVERS: down });
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`submission #${id} cancelled (its GO was never started: nothing reached the receiver)`);
    expect(await stateOf(id)).toBe('cancelled');
    expect(await inbox(stem)).toEqual([]);
  });
});
