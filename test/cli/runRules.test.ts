import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFolder } from '../../src/import/importFolder.js';
import { maillon } from '../helpers/cli.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** Operator commands that cannot send a period twice, or a period that is not over (issue 20). */
describe('maillon run, backfill and serve against what the receivers hold', () => {
  let db: TestDatabase;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  const live = async (period: string): Promise<{ id: number; state: string }[]> =>
    (await db.pool.query(`SELECT submission_id AS id, state FROM maillon.submissions WHERE flow = 'career' AND period = $1 ORDER BY 1`, [period])).rows.map((r) => ({
      id: Number(r.id),
      state: r.state,
    }));
  const status = async (period: string, at = '2026-12-06T12:00:00+01:00'): Promise<{ state: string; phase: string; action: string | null }> => {
    const out = await maillon(['status', '--json', '--days', '400'], { ...env, MAILLON_NOW: at });
    expect(out.code, out.stderr).toBe(0);
    return (JSON.parse(out.stdout).periods as { flow: string; period: string; state: string; phase: string; action: string | null }[]).find((p) => p.flow === 'career' && p.period === period)!;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    home = await scratchDir('run-rules');
    await importFolder(db.pool, path.join(ROOT, 'fixtures/career/input'));
    // A receivers' file whose server is never reached here: the cancels below concern submissions never sent.
    const receivers = path.join(home.dir, 'receivers.json');
    const unreachable = { host: '127.0.0.1', port: 9, user: 'fund', privateKeyPath: 'absent', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` };
    await fs.writeFile(receivers, JSON.stringify({ '*': unreachable }), { mode: 0o600 });
    env = { DATABASE_URL: db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_LOG_LEVEL: 'warn', MAILLON_RECEIVERS: receivers };
  });
  afterAll(async () => {
    await db?.drop();
    await home?.remove();
  });

  it('run three times: the second and the third are refused (exit 8), naming the submission and the commands to use instead', async () => {
    const run = (): ReturnType<typeof maillon> => maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-10-10T02:00:00+02:00'], env);
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    const [held] = await live('2026-Q3');
    for (const again of [await run(), await run()]) {
      expect(again.code).toBe(8);
      expect(again.stderr).toContain(`career 2026-Q3 (T) is already held by its receivers: submission #${held!.id} (original, written, to INASTI)`);
      expect(again.stderr).toContain('maillon rerun career --period 2026-Q3 --env T');
      expect(again.stderr).toContain(`maillon cancel ${held!.id}`);
    }
    expect(await live('2026-Q3')).toEqual([{ id: held!.id, state: 'written' }]);
    // A dry run writes nothing: it is not refused, and says what a real run would meet.
    const dry = await maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-10-10T02:00:00+02:00', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('note: Nothing was written. A real run would be refused');
  });

  it('refuses periods not complete at the as-of instant, as-of instants in the future and dates that do not exist (exit 2), writing nothing', async () => {
    const today = { ...env, MAILLON_NOW: '2026-12-06T12:00:00+01:00' };
    const before = (await db.pool.query('SELECT count(*)::int AS n FROM maillon.runs')).rows[0].n;
    const future = await maillon(['run', 'career', '--period', '2027-Q3'], today);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('career 2027-Q3 is not complete on 2026-12-06: it ends on 2027-09-30');
    const running = await maillon(['run', 'career', '--period', '2026-Q4'], today);
    expect(running.code).toBe(2);
    expect(running.stderr).toContain('The last complete quarter on 2026-12-06 is 2026-Q3');
    const early = await maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-09-30T12:00:00+02:00'], today);
    expect(early.code).toBe(2);
    expect(early.stderr).toContain('career 2026-Q3 is not complete on 2026-09-30');
    const ahead = await maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2027-01-01T00:00:00Z'], today);
    expect(ahead.code).toBe(2);
    expect(ahead.stderr).toContain('is after now');
    const backfill = await maillon(['backfill', 'career', '--from', '2026-Q3', '--to', '2027-Q2'], today);
    expect(backfill.code).toBe(2);
    expect(backfill.stderr).toContain('career 2027-Q2 is not complete on 2026-12-06');
    const rolled = await maillon(['run', 'career', '--period', '2026-Q1', '--as-of', '2026-02-30T00:00:00Z'], today);
    expect(rolled.code).toBe(2);
    expect(rolled.stderr).toContain('--as-of takes an existing ISO 8601 instant');
    const yearZero = await maillon(['run', 'career', '--period', '0000-Q1'], today);
    expect(yearZero.code).toBe(2);
    expect(yearZero.stderr).toContain('is not a period key');
    expect((await db.pool.query('SELECT count(*)::int AS n FROM maillon.runs')).rows[0].n).toBe(before);
    expect(await live('2027-Q2')).toEqual([]);
  });

  it('a cancelled period is to do again: status says what to do, backfill and serve run it', async () => {
    const first = await maillon(['run', 'career', '--period', '2026-Q2', '--as-of', '2026-10-10T02:00:00+02:00'], env);
    expect(first.code).toBe(0);
    const [original] = await live('2026-Q2');
    // Never sent: cancelled in the ledger alone, no server contacted.
    const cancel = await maillon(['cancel', String(original!.id)], env);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(await status('2026-Q2')).toMatchObject({
      state: 'cancelled',
      phase: 'to_do',
      action: expect.stringContaining('maillon run career --period 2026-Q2 --env T writes it again'),
    });
    expect(cancel.stdout).toContain(`submission #${original!.id} cancelled (its GO was never started: nothing reached the receiver)`);
    const backfill = await maillon(['backfill', 'career', '--from', '2026-Q1', '--to', '2026-Q3'], { ...env, MAILLON_NOW: '2026-12-06T12:00:00+01:00' });
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(backfill.stdout).toMatch(/^2026-Q3: left alone, written \(in progress\): its receivers hold it, use maillon rerun to correct it$/m);
    expect((await live('2026-Q2')).map((s) => s.state)).toEqual(['cancelled', 'written']);
    expect((await live('2026-Q1')).map((s) => s.state)).toEqual(['written']);
    expect(await status('2026-Q2')).toMatchObject({ state: 'written', phase: 'in_progress', action: null });

    // serve, at the instant career 2026-Q3 falls due, after its only submission was cancelled.
    const [q3] = await live('2026-Q3');
    expect((await maillon(['cancel', String(q3!.id)], env)).code).toBe(0);
    const serve = await maillon(['serve', '--once'], { ...env, MAILLON_NOW: '2026-10-10T02:00:30+02:00', MAILLON_CATCHUP_DAYS: '1' });
    expect(serve.code, serve.stderr).toBe(0);
    expect((await live('2026-Q3')).map((s) => s.state)).toEqual(['cancelled', 'written']);
  });

  it('a run killed between its commit and its end (SIGKILL) is not left running, and the report finds it', async () => {
    const killed = await maillon(['run', 'career', '--period', '2025-Q4', '--as-of', '2026-10-10T02:00:00+02:00'], { ...env, MAILLON_CRASH_AT: 'after-commit' });
    expect(killed.signal).toBe('SIGKILL');
    const run = await db.pool.query(`SELECT state, finished_at IS NOT NULL AS ended FROM maillon.runs WHERE period = '2025-Q4'`);
    expect(run.rows).toEqual([{ state: 'succeeded', ended: true }]);
    const report = await maillon(['report', 'career', '--period', '2025-Q4', '--json'], env);
    expect(report.code, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ flow: 'career', period: '2025-Q4', receivers: { phase: 'in_progress', state: 'written' } });
    expect(await status('2025-Q4')).toMatchObject({ state: 'written', phase: 'in_progress' });
  });
});
