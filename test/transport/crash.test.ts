import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { createCareerCli, type CareerCli } from '../helpers/careerCli.js';
import { maillon } from '../helpers/cli.js';

describe('maillon send killed (SIGKILL) at each step, then run again', () => {
  let cli: CareerCli;

  beforeAll(async () => {
    cli = await createCareerCli();
  });
  afterAll(async () => cli?.close());

  it.each([
    ['before-upload', '2026-Q3'],
    ['after-upload', '2026-Q2'],
    ['after-rename', '2026-Q1'],
    ['before-go-rename', '2025-Q3'],
    ['after-go', '2025-Q4'],
  ])('killed %s: the next send completes it exactly once', async (step, period) => {
    const run = await cli.fx.run(career, period);
    const stem = run.files[0]!.name.slice(3, -4); // CARR.012345.<date>.<seq>.T
    const crashed = await maillon(['send', '--no-acks'], { ...cli.env, MAILLON_CRASH_AT: step });
    expect(crashed.signal).toBe('SIGKILL');
    const again = await maillon(['send', '--no-acks'], cli.env);
    expect(again.stderr).not.toContain('maillon:');
    expect(again.code).toBe(0);
    const mine = (await fs.readdir(path.join(cli.sshd.root, 'IN'))).filter((n) => n.includes(stem));
    expect(mine.sort()).toEqual([`FI.${stem}.1.1`, `GO.${stem}.1`]);
    const ledger = await cli.fx.db.pool.query(
      `SELECT s.state, s.sequence, array_agg(coalesce(a.outcome, 'killed') ORDER BY a.attempt_id) AS attempts
       FROM maillon.submissions s JOIN maillon.transfer_attempts a USING (submission_id) WHERE s.run_id = $1 GROUP BY s.state, s.sequence`,
      [run.runId],
    );
    expect(ledger.rows).toEqual([{ state: 'sent', sequence: run.files[0]!.sequence, attempts: ['killed', 'sent'] }]);
  });
});
