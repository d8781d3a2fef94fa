import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statistics } from '../../pipelines/statistics.js';
import { importFolder } from '../../src/import/importFolder.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, DOSSIER_2024, type FlowFixture } from '../helpers/flowFixture.js';

const NOW = '2025-01-10T02:00:00+01:00';

/** The dossier of 2024 without the affiliate D06 (and everything of theirs). */
async function withoutD06(dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  for (const f of await fs.readdir(DOSSIER_2024)) {
    const lines = (await fs.readFile(path.join(DOSSIER_2024, f), 'utf8')).split('\n').filter((l) => !/^(D06,|[^,]*,D06,)/.test(l));
    await fs.writeFile(path.join(dir, f), lines.join('\n'));
  }
  return dir;
}

/** Flows whose files are replaced whole (statistics, Belcotax): a rerun compares with what the receiver holds. */
describe('whole-file reruns (statistics 2024-Q1)', () => {
  let fx: FlowFixture;
  let env: Record<string, string>;
  const rerun = (): ReturnType<typeof maillon> => maillon(['rerun', 'statistics', '--period', '2024-Q1', '--reason', 'affiliate removed', '--as-of', NOW, '--yes'], env);
  const submissions = async (): Promise<number> => (await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions WHERE flow = 'statistics'`)).rows[0].n;

  beforeAll(async () => {
    fx = await createFlowFixture();
    env = { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox), MAILLON_OUTBOX: fx.outbox, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_NOW: NOW };
    await fx.run(statistics, '2024-Q1');
    await importFolder(fx.db.pool, await withoutD06(path.join(path.dirname(fx.outbox), 'without-d06')));
  });
  afterAll(async () => fx?.close());

  it('after one whole-file correction went out, an identical rerun sends nothing', async () => {
    const first = await rerun();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/vanished\s+3\s/);
    expect(first.stdout).toContain('deliver it with: maillon send');
    expect(await submissions()).toBe(2);
    const second = await rerun();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/vanished\s+0\s/);
    expect(second.stdout).toMatch(/identical to what was sent \(run #\d+\): nothing sent/);
    expect(await submissions()).toBe(2);
    const kinds = await fx.db.pool.query(`SELECT kind FROM maillon.submissions WHERE flow = 'statistics' ORDER BY submission_id`);
    expect(kinds.rows.map((r) => r.kind)).toEqual(['original', 'replacement']);
  });
});
