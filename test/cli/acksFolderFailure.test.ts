import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { acrfBody } from '../helpers/replyChannel.js';
import { scratchDir } from '../helpers/runHarness.js';
import { endpointOf, requireTestSshd, type TestSshd } from '../helpers/sshd.js';

/**
 * Three reply folders on one server, read in the order of their receivers: OUTTEST (the first
 * receiver's), OUTTEST_GONE (the second's, which does not exist) and OUTTEST_C (every other's).
 */
describe('maillon acks and serve with a reply folder that cannot be read (real sshd, real PostgreSQL)', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let run: RunResult;
  let receivers: string[];
  let seq = 80_000;
  const fileOf = (receiver: string): string => run.files.find((f) => f.receiver === receiver)!.name;
  const stateOf = async (receiver: string): Promise<string> => (await fx.db.pool.query(`SELECT state FROM maillon.submissions WHERE receiver = $1`, [receiver])).rows[0].state;
  const put = async (folder: string, body: string): Promise<string> => {
    const n = ++seq;
    await fs.writeFile(path.join(sshd.root, folder, `FO.ACRF.999999.20250110.${n}.T`), body);
    await fs.writeFile(path.join(sshd.root, folder, `GO.ACRF.999999.20250110.${n}.T.1`), '');
    return `FO.ACRF.999999.20250110.${n}.T`;
  };
  const gone = (): string => `${sshd.user}@${sshd.host}:${sshd.port}${path.join(sshd.root, 'OUTTEST_GONE')}`;

  beforeAll(async () => {
    sshd = await requireTestSshd();
    await fs.mkdir(path.join(sshd.root, 'OUTTEST_C'), { recursive: true });
    fx = await createFlowFixture();
    run = await fx.run(contributionSlips, '2024-Q4');
    receivers = [...new Set(run.files.map((f) => f.receiver))].sort();
    expect(receivers.length).toBeGreaterThanOrEqual(4);
    home = await scratchDir('acks-folder-failure');
    const file = path.join(home.dir, 'receivers.json');
    const endpoints = {
      [receivers[0]!]: endpointOf(sshd),
      [receivers[1]!]: endpointOf(sshd, { outTestDir: path.join(sshd.root, 'OUTTEST_GONE') }),
      '*': endpointOf(sshd, { outTestDir: path.join(sshd.root, 'OUTTEST_C') }),
    };
    await fs.writeFile(file, JSON.stringify(endpoints), { mode: 0o600 });
    env = { DATABASE_URL: fx.db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_RECEIVERS: file, MAILLON_LOG_LEVEL: 'info' };
    expect((await maillon(['send', '--no-acks'], env)).code).toBe(0);
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
    await home?.remove();
  });

  it('acks tells what it applied before the failed folder, names that folder and its receiver, reads the folders after it, and exits 12 (11 once only the folder fails)', async () => {
    const [first, second, third] = receivers as [string, string, string];
    const malformed = await put('OUTTEST', '<ACRF><Form>');
    const rejecting = await put('OUTTEST', acrfBody(fileOf(first), false));
    const after = await put('OUTTEST_C', acrfBody(fileOf(third), true));
    const out = await maillon(['acks'], env);
    expect(out.code).toBe(12);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^set_aside  ${malformed.replaceAll('.', '\\.')}: `)),
      `processed  ${rejecting}`,
      expect.stringMatching(/^folder_failed /),
      `processed  ${after}`,
    ]);
    expect(lines[2]).toContain(
      `folder_failed ${gone()}: The reply folder ${gone()} (OUTTEST, of ${second}) could not be read: SFTP listing ${path.join(sshd.root, 'OUTTEST_GONE')} on ${sshd.host}:${sshd.port} failed:`,
    );
    expect(lines[2]).toMatch(/Its replies not read yet wait there; the other folders were read, and this one is read again by the next pass\.$/);
    expect(await stateOf(first)).toBe('rejected');
    expect(await stateOf(third)).toBe('received');

    const again = await maillon(['acks', '--json'], env);
    expect(again.code).toBe(11);
    expect(JSON.parse(again.stdout).filter((o: { result: string }) => o.result !== 'already-processed')).toEqual([
      { name: gone(), result: 'folder_failed', reason: expect.stringContaining(`(OUTTEST, of ${second}) could not be read`), receivers: [second], cause: 'transport' },
    ]);
  });

  it('serve reads the folders after the failed one, logs it naming its receiver, and goes on', async () => {
    const [, second, , fourth] = receivers as [string, string, string, string];
    await put('OUTTEST_C', acrfBody(fileOf(fourth), true));
    const out = await maillon(['serve', '--once'], { ...env, MAILLON_NOW: '2025-01-10T06:00:00+01:00', MAILLON_CATCHUP_DAYS: '1' });
    expect(out.stderr).not.toContain('replies could not be read this tick');
    expect(out.code).toBe(0);
    const logged = out.stderr
      .split('\n')
      .filter((l) => l.includes('a reply folder could not be read'))
      .map((l) => JSON.parse(l));
    // Once per reading of the replies (the tick reads them after each delivery).
    expect(logged.length).toBeGreaterThan(0);
    for (const l of logged) expect(l).toMatchObject({ level: 40, server: gone(), receivers: [second], reason: expect.stringContaining(`(OUTTEST, of ${second}) could not be read`) });
    expect(await stateOf(fourth)).toBe('received');
  });
});
