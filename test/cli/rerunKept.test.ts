import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture, importEdited } from '../helpers/flowFixture.js';

const NOW = '2025-01-10T02:00:00+01:00';

describe('rerun: a period whose only change is a held record quarantined now', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(contributionSlips, '2024-Q1');
    // D01 loses its mutual insurer: its slip, held by OA100, is quarantined `no-insurer` now.
    await importEdited(fx, 'no-insurer', { 'mutuality_affiliations.csv': (text) => text.replace('D01,100,2000-01-01,\n', '') });
  });
  afterAll(async () => fx.close());

  it('sends nothing, and says which held records are quarantined now instead of only "identical"', async () => {
    const env = { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox), MAILLON_OUTBOX: fx.outbox, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_NOW: NOW };
    for (const dry of [['--dry-run'], ['--yes']]) {
      const r = await maillon(['rerun', 'contribution-slips', '--period', '2024-Q1', '--reason', 'check', '--as-of', NOW, ...dry], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/identical to what was sent \(run #\d+\): nothing sent/);
      expect(r.stdout).toContain(
        "but 1 record(s) the receivers hold are quarantined now (D01): they stay as the receivers hold them, and the period's report does not show them; correct the dossier, then rerun",
      );
    }
  });
});
