import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

const PASSPHRASE = 'the-right-passphrase';
const WRONG = 'not-the-passphrase';

/** The client key has a passphrase, read from MAILLON_KEY_PASSPHRASE: unset or wrong, it is a configuration error. */
describe('maillon send and acks with a key whose passphrase is missing or wrong (real sshd, real PostgreSQL)', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let count: number;

  const attempts = async (): Promise<number> => (await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.transfer_attempts`)).rows[0].n;

  beforeAll(async () => {
    sshd = await requireTestSshd({ passphrase: PASSPHRASE });
    fx = await createFlowFixture();
    await fx.run(contributionSlips, '2024-Q4');
    count = (await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions`)).rows[0].n;
    expect(count).toBeGreaterThan(1);
    home = await scratchDir('key-passphrase');
    const file = await writeReceiversFile(sshd, path.join(home.dir, 'receivers.json'), { passphraseEnv: 'MAILLON_KEY_PASSPHRASE' });
    env = { DATABASE_URL: fx.db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_RECEIVERS: file, MAILLON_LOG_LEVEL: 'info' };
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
    await home?.remove();
  });

  it('send with the passphrase unset tries nothing, names the key and the variable, and exits 2 (configuration)', async () => {
    const out = await maillon(['send', '--json', '--no-acks'], env);
    expect(out.code).toBe(2);
    const outcomes = JSON.parse(out.stdout);
    expect(outcomes).toHaveLength(count);
    for (const o of outcomes) {
      expect(o).toMatchObject({ result: 'failed', cause: 'configuration' });
      expect(o.error).toContain(`The private key ${sshd.privateKeyPath} cannot be used: Encrypted private OpenSSH key detected, but no passphrase given.`);
      expect(o.error).toContain('Its passphrase is read from MAILLON_KEY_PASSPHRASE');
    }
    // No connection, no transfer attempt: nothing was tried.
    expect(await attempts()).toBe(0);
    expect(sshd.connections()).toBe(0);
  });

  it('send with a wrong passphrase does the same and never prints it', async () => {
    const out = await maillon(['send', '--no-acks'], { ...env, MAILLON_KEY_PASSPHRASE: WRONG });
    expect(out.code).toBe(2);
    expect(out.stdout.match(/^failed .*Check the passphrase in MAILLON_KEY_PASSPHRASE/gm)).toHaveLength(count);
    expect(out.stdout + out.stderr).not.toContain(WRONG);
    expect(await attempts()).toBe(0);
  });

  it('send with the right passphrase delivers; acks with a wrong one reports the folder as folder_failed, cause configuration, exit 2', async () => {
    const sent = await maillon(['send', '--no-acks'], { ...env, MAILLON_KEY_PASSPHRASE: PASSPHRASE });
    expect(sent.code).toBe(0);
    expect(sent.stdout.match(/^sent /gm)).toHaveLength(count);
    const out = await maillon(['acks', '--json'], { ...env, MAILLON_KEY_PASSPHRASE: WRONG });
    expect(out.code).toBe(2);
    const failed = JSON.parse(out.stdout);
    expect(failed).toEqual([expect.objectContaining({ result: 'folder_failed', cause: 'configuration' })]);
    expect(failed[0].reason).toContain(`The private key ${sshd.privateKeyPath} cannot be used`);
    expect(out.stdout + out.stderr).not.toContain(WRONG);
  });
});
