import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { createMetrics } from '../../src/status/metrics.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';

/** /metrics reads the time from the clock it is given, like everything else (issue 24), and counts periods by phase (issue 20). */
describe('the metrics', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    const run = await fx.run(career, '2026-Q3');
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'sent', go_started_at = $2, sent_at = $2 WHERE run_id = $1`, [run.runId, '2026-10-10T03:00:00Z']);
  });
  afterAll(async () => fx?.close());

  const scrape = (at: string): Promise<string> =>
    createMetrics(fx.db.pool, { clock: fixedClock(at), pipelines: [career], environment: 'T', windowDays: 30, ackDelayHours: 48 }).metrics();

  it('a submission sent without ACRF is overdue once the delay has passed on the clock given', async () => {
    expect(await scrape('2026-10-12T02:00:00Z')).toMatch(/^maillon_overdue_submissions 0$/m);
    expect(await scrape('2026-10-12T04:00:00Z')).toMatch(/^maillon_overdue_submissions 1$/m);
    expect(await scrape('2026-10-12T04:00:00Z')).toContain('maillon_periods{flow="career",phase="in_progress"} 1');
  });
});
