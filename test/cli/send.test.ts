import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidInss } from '../../src/domain/inss.js';
import { maillon } from '../helpers/cli.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd } from '../helpers/sshd.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const PASSPHRASE = 'correct horse battery staple 42';

describe('maillon send', () => {
  let sshd: TestSshd;
  let db: TestDatabase;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;

  beforeAll(async () => {
    // The client key is protected by a passphrase that the receivers file names by its variable.
    sshd = await requireTestSshd({ passphrase: PASSPHRASE });
    db = await createTestDatabase();
    home = await scratchDir('send');
    const key = sshd.privateKeyPath;
    const receivers = path.join(home.dir, 'receivers.json');
    await fs.writeFile(
      receivers,
      JSON.stringify({
        '*': {
          host: sshd.host,
          port: sshd.port,
          user: sshd.user,
          privateKeyPath: key,
          passphraseEnv: 'MAILLON_KEY_PASSPHRASE',
          hostKeyFingerprint: sshd.hostKeyFingerprint,
          inDir: path.join(sshd.root, 'IN'),
          outTestDir: path.join(sshd.root, 'OUTTEST'),
          timeoutMs: 5000,
          retries: 1,
        },
      }),
    );
    env = {
      DATABASE_URL: db.url,
      MAILLON_HOME: home.dir,
      MAILLON_SENDER: '012345',
      MAILLON_LOG_LEVEL: 'debug',
      MAILLON_RECEIVERS: receivers,
      MAILLON_KEY_PASSPHRASE: PASSPHRASE,
    };
  });
  afterAll(async () => {
    await sshd?.stop();
    await db?.drop();
    await home?.remove();
  });

  it('delivers the run, says so, and logs neither the passphrase nor a full INSS', async () => {
    expect((await maillon(['import', path.join(ROOT, 'fixtures/career/input')], env)).code).toBe(0);
    expect((await maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-10-10T02:00:00+02:00'], env)).code).toBe(0);
    const send = await maillon(['send'], env);
    expect(send.stderr).not.toContain('maillon:');
    expect(send.code).toBe(0);
    expect(send.stdout).toMatch(/^sent\s+#1 GO\.CARR\.012345\.\d{8}\.00001\.T\.1 to INASTI$/m);
    expect((await fs.readdir(path.join(sshd.root, 'IN'))).filter((n) => n.startsWith('GO.'))).toHaveLength(1);
    const again = await maillon(['send'], env);
    expect(again.stdout.trim()).toBe('nothing to send\nno new replies');
    const logs = send.stderr + again.stderr;
    expect(logs).toContain('submission sent');
    expect(logs).not.toContain(PASSPHRASE);
    expect([...logs.matchAll(/(?<!\d)\d{11}(?!\d)/g)].map((m) => m[0]).filter(isValidInss)).toEqual([]);
  });

  it('explains a missing MAILLON_RECEIVERS', async () => {
    const out = await maillon(['send'], { ...env, MAILLON_RECEIVERS: '' });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('MAILLON_RECEIVERS is not set');
  });
});
