import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { setFlowPaused } from '../../src/ledger/flowPauses.js';
import { statusToHtml } from '../../src/status/statusHtml.js';
import { statusSnapshot } from '../../src/status/statusSnapshot.js';
import { maillon } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const NOW = '2026-10-12T10:00:00+02:00';
const INSS = '85073003328';

/**
 * Review serve finding 4: a pause reason naming a person, or a run's error in a period's action,
 * reached the status page, /status.json and `maillon status` with the full INSS, and the terminal
 * got the pause reason's control characters raw.
 */
describe('free texts on the status page, in /status.json and in maillon status', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await setFlowPaused(db.pool, 'T', 'career', true, new Date(NOW), `wrong address for ${INSS}\u001b[2J <b>x</b>`);
    await db.pool.query(
      `INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, finished_at, started_by, host, pid, error_message)
       VALUES ('career', '2026-Q3', 'T', $1, false, 'failed', $1, $1, 'test', 'h', 1, $2)`,
      [NOW, `record of ${INSS} refused by the schema\n\u001b[31mforged line`],
    );
  });
  afterAll(async () => db?.drop());

  it('masks the INSS of a pause reason and of a failed run in the snapshot, its JSON and its page', async () => {
    const s = await statusSnapshot(db.pool, [career], 'T', new Date(NOW), 30, 48, 30);
    expect(s.paused[0]!.reason).toContain('wrong address for 85*******28');
    expect(s.periods.find((p) => p.period === '2026-Q3')!.action).toContain('record of 85*******28');
    expect(JSON.stringify(s)).not.toContain(INSS);
    expect(statusToHtml(s)).not.toContain(INSS);
  });

  it('maillon status prints the pause reason masked and with its control characters escaped', async () => {
    const out = await maillon(['status', '--days', '30'], { DATABASE_URL: db.url, MAILLON_ENV: 'T', MAILLON_LOG_LEVEL: 'warn', MAILLON_NOW: NOW, MAILLON_CATCHUP_DAYS: '30' });
    expect(out.code, out.stderr).toBe(0);
    const line = out.stdout.split('\n').find((l) => l.startsWith('paused career'));
    expect(line).toContain('wrong address for 85*******28');
    expect(line).toContain('\\x1b[2J');
    expect(out.stdout).not.toContain('\u001b');
    expect(out.stdout).not.toContain(INSS);
    // A run error quoted in a period's action stays on its line: no forged output line.
    expect(out.stdout).toContain('refused by the schema\\x0a\\x1b[31mforged line');
    expect(out.stdout.split('\n').some((l) => l.startsWith('forged line') || l.includes('\u001b[31m'))).toBe(false);
  });
});
