import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

describe('maillon send killed (SIGKILL) at each step, then run again', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let env: Record<string, string>;

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

  it.each([
    ['before-upload', '2026-Q3'],
    ['after-upload', '2026-Q2'],
    ['after-rename', '2026-Q1'],
    ['before-go-rename', '2025-Q3'],
    ['after-go', '2025-Q4'],
  ])('killed %s: the next send completes it exactly once', async (step, period) => {
    const run = await fx.run(career, period);
    const stem = run.files[0]!.name.slice(3, -4); // CARR.012345.<date>.<seq>.T
    const crashed = await maillon(['send', '--no-acks'], { ...env, MAILLON_CRASH_AT: step });
    expect(crashed.signal).toBe('SIGKILL');
    const again = await maillon(['send', '--no-acks'], env);
    expect(again.stderr).not.toContain('maillon:');
    expect(again.code).toBe(0);
    const mine = (await fs.readdir(path.join(sshd.root, 'IN'))).filter((n) => n.includes(stem));
    expect(mine.sort()).toEqual([`FI.${stem}.1.1`, `GO.${stem}.1`]);
    const ledger = await fx.db.pool.query(
      `SELECT s.state, s.sequence, array_agg(coalesce(a.outcome, 'killed') ORDER BY a.attempt_id) AS attempts
       FROM maillon.submissions s JOIN maillon.transfer_attempts a USING (submission_id) WHERE s.run_id = $1 GROUP BY s.state, s.sequence`,
      [run.runId],
    );
    expect(ledger.rows).toEqual([{ state: 'sent', sequence: run.files[0]!.sequence, attempts: ['killed', 'sent'] }]);
  });
});
