import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embeddedPostgres.js';
import { generateEd25519KeyPair } from '../../src/transport/keyPair.js';
import { shownListedName } from '../../src/ack/listedName.js';
import { maillon } from '../helpers/cli.js';
import { DOSSIER_2024 } from '../helpers/flowFixture.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** The command line as an operator meets it: pipes, --json, names from outside, files, progress. */
describe('a command line that behaves', () => {
  let db: TestDatabase;
  let sshd: TestSshd;
  let tmp: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  const AS_OF = '2025-01-10T02:00:00+01:00';

  beforeAll(async () => {
    db = await createTestDatabase();
    sshd = await requireTestSshd();
    tmp = await scratchDir('behaviour');
    env = { DATABASE_URL: db.url, MAILLON_HOME: path.join(tmp.dir, 'home'), MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_NOW: AS_OF };
    expect((await maillon(['import', DOSSIER_2024], env)).code).toBe(0);
    const run = await maillon(['run', 'contribution-slips', '--period', '2024-Q1', '--as-of', AS_OF], env);
    expect(run.code, run.stderr).toBe(0);
  });
  afterAll(async () => {
    await sshd?.stop();
    await db?.drop();
    await tmp?.remove();
  });

  it('ends quietly when its reader goes away (EPIPE): no stack trace, the exit code of the work', async () => {
    for (const args of [['flows'], ['status', '--days', '400'], ['report', 'contribution-slips', '--period', '2024-Q1']]) {
      const child = spawn(path.join(ROOT, 'bin/maillon.js'), args, { cwd: ROOT, env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      // The reader is gone before the first line is written, as `| head -1` is after its line.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr, args.join(' ')).not.toMatch(/EPIPE|Error| {4}at /);
      expect(code, args.join(' ')).toBe(0);
    }
  });

  it('send --json prints only JSON on stdout when the connection fails (no library chatter)', async () => {
    const receivers = path.join(tmp.dir, 'refused.json');
    await fs.writeFile(path.join(tmp.dir, 'key'), generateEd25519KeyPair().private, { mode: 0o600 });
    await fs.writeFile(
      receivers,
      JSON.stringify({
        '*': {
          host: '127.0.0.1',
          port: await freePort(),
          user: 'fund',
          privateKeyPath: path.join(tmp.dir, 'key'),
          hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`,
          inDir: '/IN',
          timeoutMs: 2000,
          retries: 0,
        },
      }),
      { mode: 0o600 },
    );
    const out = await maillon(['send', '--json', '--no-acks'], { ...env, MAILLON_RECEIVERS: receivers });
    expect(out.code).toBe(11);
    const parsed = JSON.parse(out.stdout) as { result: string }[];
    expect(parsed.length).toBeGreaterThan(0);
    expect(parsed.every((o) => o.result === 'failed')).toBe(true);
  });

  it('acks shows reply names from the server with their control characters escaped', async () => {
    const receivers = { ...env, MAILLON_RECEIVERS: await writeReceiversFile(sshd, path.join(tmp.dir, 'receivers.json')) };
    // Replies are read from the receivers that were sent something.
    expect((await maillon(['send', '--no-acks'], receivers)).code).toBe(0);
    const name = 'FO.\u001b[2J\u001b[31mforged\nsent      #1 GO.FAKE';
    await fs.writeFile(path.join(sshd.root, 'OUTTEST', name), 'not a reply');
    const out = await maillon(['acks', '--env', 'T'], receivers);
    expect(out.code).toBe(12);
    expect(out.stdout).not.toContain('\u001b');
    expect(out.stdout).toContain('set_aside  FO.\\x1b[2J\\x1b[31mforged\\x0asent      #1 GO.FAKE');
    expect(out.stdout.split('\n').filter((l) => l.includes('GO.FAKE'))).toHaveLength(1);
  });

  it('status lists a reply set aside tied to no period (its name refused, shown escaped) with how to read it again; acks --reread of it, or of an unknown name', async () => {
    const receivers = { ...env, MAILLON_RECEIVERS: path.join(tmp.dir, 'receivers.json') };
    const name = 'FO.\u001b[2J\u001b[31mforged\nsent      #1 GO.FAKE';
    // A listed name with control characters never reaches the ledger itself: its shown form does.
    const shown = shownListedName(name);
    expect(shown).toMatch(/^FO\.\\x1b\[2J\\x1b\[31mforged\\x0asent {6}#1 GO\.FAKE… \[name refused, sha256 [0-9a-f]{16}\]$/);
    const status = await maillon(['status', '--days', '400'], receivers);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).not.toContain('\u001b');
    expect(status.stdout).toContain(`reply ${shown} set aside`);
    expect(status.stdout).toContain(`→ to read it again: maillon acks --reread ${shown}`);
    const json = JSON.parse((await maillon(['status', '--days', '400', '--json'], receivers)).stdout) as { unsettledReplies: { name: string; issue: string }[] };
    expect(json.unsettledReplies).toContainEqual(expect.objectContaining({ name: shown, issue: 'set_aside' }));

    // Read again on the operator's demand, it is still refused, and says why.
    const again = await maillon(['acks', '--env', 'T', '--json', '--reread', shown], receivers);
    expect(again.code, again.stderr).toBe(12);
    expect(JSON.parse(again.stdout)).toEqual([{ name: shown, result: 'set_aside', reason: expect.stringContaining('Its name holds a control character') }]);
    const unknown = await maillon(['acks', '--env', 'T', '--reread', 'FO.ACRF.999999.20250110.99999.T'], receivers);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No reply named FO.ACRF.999999.20250110.99999.T is in the ledger');
  });

  it('report --format text --out FILE writes the text report, the same as on stdout', async () => {
    const file = path.join(tmp.dir, 'report.txt');
    const written = await maillon(['report', 'contribution-slips', '--period', '2024-Q1', '--format', 'text', '--out', file], env);
    expect(written.code, written.stderr).toBe(0);
    const shown = await maillon(['report', 'contribution-slips', '--period', '2024-Q1'], env);
    const text = await fs.readFile(file, 'utf8');
    expect(text).toMatch(/^contribution-slips 2024-Q1 env T/);
    expect(text).toBe(shown.stdout);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('a documents folder that cannot be written ends with exit 7 and says which folder', async () => {
    const blocker = path.join(tmp.dir, 'not-a-folder');
    await fs.writeFile(blocker, '');
    const out = await maillon(['run', 'tax-attestations', '--period', '2024', '--as-of', AS_OF], { ...env, MAILLON_DOCUMENTS: path.join(blocker, 'documents') });
    expect(out.code).toBe(7);
    expect(out.stderr).toContain(`maillon: Cannot prepare the documents folder ${path.join(blocker, 'documents')}: ENOTDIR`);
    expect(out.stderr).not.toContain('unexpected failure');
  });

  it('draws progress bars that move to their end on a terminal', () => {
    // util-linux's script gives the command a terminal; its output is what the operator sees.
    const out = path.join(tmp.dir, 'generated');
    const command = `${path.join(ROOT, 'bin/maillon.js')} generate --affiliates 1200 --out ${out}`;
    const r = spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], TERM: 'dumb', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('500/1200');
    expect(r.stdout).toContain('100% 1200/1200');
  });
});
