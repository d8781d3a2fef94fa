import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { createRandom } from '../../src/generate/random.js';
import { parsePeriod } from '../../src/period/period.js';
import { maillon, spawnMaillon } from '../helpers/cli.js';
import { scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';
import { isProcessAlive } from '../../src/system/processAlive.js';

const RUNS = 50;

/**
 * Runs of `maillon serve --once` on the embedded default, killed with SIGKILL at a random point
 * (seeded) until 50 were killed, then one run to the end: every due period is delivered exactly once and
 * no embedded PostgreSQL is left behind.
 */
describe('killed at random points of 50 runs', () => {
  let sshd: TestSshd;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;

  beforeAll(async () => {
    sshd = await requireTestSshd();
    home = await scratchDir('chaos');
    const data = path.join(home.dir, 'data');
    await generateDataset({ affiliates: 200, seed: 13, out: data, invalidRate: 0.02, lastQuarter: parsePeriod('2026-Q4') });
    const receivers = await writeReceiversFile(sshd, path.join(home.dir, 'receivers.json'));
    env = {
      MAILLON_HOME: home.dir,
      MAILLON_SENDER: '012345',
      MAILLON_ENV: 'T',
      MAILLON_RECEIVERS: receivers,
      MAILLON_NOW: '2026-11-06T09:00:00+01:00',
      MAILLON_CATCHUP_DAYS: '60',
      MAILLON_LOG_LEVEL: 'warn',
    };
    expect((await maillon(['import', data], env)).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await sshd?.stop();
    await home?.remove();
  });

  it('delivers every due period exactly once after the kills, and leaves no PostgreSQL running', async () => {
    const rnd = createRandom(2026);
    // Runs until 50 of them were killed: a run that ends before its kill point (quicker on a fast
    // machine, and once everything is delivered) does not count as one.
    let killed = 0;
    let attempts = 0;
    while (killed < RUNS && attempts < 3 * RUNS) {
      attempts++;
      const child = spawnMaillon(['serve', '--once'], env);
      const timer = setTimeout(() => child.kill('SIGKILL'), rnd.int(50, 1500));
      const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
      clearTimeout(timer);
      if (signal === 'SIGKILL') killed++;
    }
    expect(killed, `${killed} of ${attempts} runs killed`).toBe(RUNS);
    const last = await maillon(['serve', '--once'], env);
    expect(last.stderr).not.toContain('maillon:');
    expect(last.code).toBe(0);
    const pid = Number((await fs.readFile(path.join(home.dir, 'pg', 'data', 'postmaster.pid'), 'utf8').catch(() => '0')).split('\n')[0]);
    expect(pid === 0 || !isProcessAlive(pid)).toBe(true);

    // Read the ledger through a server of our own (the embedded one is stopped).
    const check = await maillon(['status', '--json', '--days', '60'], env);
    const status = JSON.parse(check.stdout) as { periods: { flow: string; period: string; state: string; runId: number | null }[] };
    expect(
      status.periods
        .filter((p) => p.flow !== 'incapacity-attestations')
        .map((p) => `${p.flow} ${p.period}`)
        .sort(),
    ).toEqual(['allowance-certificates 2026-09', 'allowance-certificates 2026-10', 'career 2026-Q3', 'contribution-slips 2026-Q3', 'statistics 2026-Q3']);
    // The daily flow: each of the 60 days caught up (2026-09-07 to 2026-11-05), none twice.
    expect(status.periods.filter((p) => p.flow === 'incapacity-attestations')).toHaveLength(60);
    // A period without records has nothing to send; every other one is held by its receiver.
    for (const p of status.periods) expect(['sent', 'accepted', 'nothing_to_send'], `${p.flow} ${p.period}`).toContain(p.state);
    const inbox = await fs.readdir(path.join(sshd.root, 'IN'));
    expect(inbox.filter((n) => n.endsWith('.part'))).toEqual([]);
    const gos = inbox.filter((n) => n.startsWith('GO.'));
    expect(new Set(gos).size).toBe(gos.length);
    for (const purpose of ['CARR', 'STAT']) expect(gos.filter((n) => n.startsWith(`GO.${purpose}.`))).toHaveLength(1);
    const pgCheck = await maillon(['runs', '--json', '--limit', '500'], env);
    const runs = JSON.parse(pgCheck.stdout) as { flow: string; period: string; state: string; dryRun: boolean }[];
    const succeeded = runs.filter((r) => r.state === 'succeeded' && !r.dryRun).map((r) => `${r.flow} ${r.period}`);
    expect(succeeded.sort()).toEqual(status.periods.map((p) => `${p.flow} ${p.period}`).sort());
  }, 600_000);
});
