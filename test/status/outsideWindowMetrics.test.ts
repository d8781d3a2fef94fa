import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incapacityAttestations } from '../../pipelines/incapacityAttestations.js';
import { fixedClock } from '../../src/clock/clock.js';
import { createMetrics } from '../../src/status/metrics.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/**
 * Review serve finding 2: serve stopped from 2026-10-01 and back on 2026-10-12 10:00 with
 * MAILLON_CATCHUP_DAYS=2. The days it missed before its catch-up window are outside it: serve
 * will never run them, and their deadlines (the day + 8) are close or just past. /metrics left
 * them out, so no alert fired for them.
 */
describe('/metrics and the periods outside serve catch-up window', () => {
  let db: TestDatabase;
  let m: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    const now = '2026-10-12T10:00:00+02:00';
    m = await createMetrics(db.pool, { clock: fixedClock(now), pipelines: [incapacityAttestations], environment: 'T', windowDays: 400, ackDelayHours: 48, catchUpDays: 2 }).metrics();
  });
  afterAll(async () => db?.drop());
  const series = (name: string): string[] => m.split('\n').filter((l) => l.startsWith(`${name}{`));

  it('exports the days remaining of a missed day whose deadline is close or just past, which MaillonDeadlineClose reads', () => {
    expect(m).toContain('maillon_period_days_remaining{flow="incapacity-attestations",period="2026-10-05"} 1');
    expect(m).toContain('maillon_period_days_remaining{flow="incapacity-attestations",period="2026-10-01"} -3');
    expect(m).toContain('maillon_overdue_periods{flow="incapacity-attestations"} 7');
  });

  it('counts them in maillon_outside_window_periods, which MaillonPeriodOutsideWindow reads', () => {
    // 2026-09-27 … 2026-10-09: deadlines from 7 days past to 5 days ahead.
    expect(m).toContain('maillon_outside_window_periods{flow="incapacity-attestations"} 13');
  });

  it('leaves out the older days of the window: a fresh install with a short catch-up window raises no alert for them', () => {
    const periods = series('maillon_period_days_remaining').map((l) => /period="([^"]+)"/.exec(l)![1]!);
    expect(periods[0]).toBe('2026-09-27');
    expect(periods).not.toContain('2026-09-26');
    // 2026-09-27 … 2026-10-09 outside the window, 2026-10-10 and 2026-10-11 inside it.
    expect(periods).toHaveLength(15);
    expect(periods.at(-1)).toBe('2026-10-11');
  });
});
