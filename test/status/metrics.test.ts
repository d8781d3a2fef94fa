import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { setFlowPaused } from '../../src/ledger/flowPauses.js';
import { recordTick } from '../../src/status/heartbeat.js';
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

  const scrape = (at: string, windowDays = 30, environment: 'R' | 'T' = 'T'): Promise<string> =>
    createMetrics(fx.db.pool, { clock: fixedClock(at), pipelines: [career], environment, windowDays, ackDelayHours: 48 }).metrics();

  it('a submission sent without ACRF is overdue once the delay has passed on the clock given', async () => {
    expect(await scrape('2026-10-12T02:00:00Z')).toMatch(/^maillon_overdue_submissions 0$/m);
    expect(await scrape('2026-10-12T04:00:00Z')).toMatch(/^maillon_overdue_submissions 1$/m);
    expect(await scrape('2026-10-12T04:00:00Z')).toContain('maillon_periods{flow="career",phase="in_progress"} 1');
  });

  /** A run row as the ledger keeps it (what a failed or finished run leaves), for the states a test needs. */
  const addRun = async (period: string, state: 'failed' | 'succeeded', startedAt: string, seconds: number): Promise<void> => {
    await fx.db.pool.query(
      `INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, finished_at, emitted, started_by, host, pid, error_message)
       VALUES ('career', $1, 'T', $2, false, $3, $2, $2::timestamptz + make_interval(secs => $4), 0, 'test', 'test', 1, $5)`,
      [period, startedAt, state, seconds, state === 'failed' ? 'dossier unreachable' : null],
    );
  };

  it('maillon_runs{state="failed"} goes down once the failed period runs again (issue 22: it only grew)', async () => {
    await addRun('2026-Q2', 'failed', '2026-10-11T00:00:00Z', 3);
    expect(await scrape('2026-10-12T02:00:00Z')).toContain('maillon_runs{flow="career",state="failed"} 1');
    expect(await scrape('2026-10-12T02:00:00Z')).toContain('maillon_period_states{flow="career",state="failed"} 1');
    await addRun('2026-Q2', 'succeeded', '2026-10-11T01:00:00Z', 40);
    const after = await scrape('2026-10-12T02:00:00Z');
    expect(after).not.toContain('state="failed"} 1');
    // The failure is still known: when it happened.
    expect(after).toContain(`maillon_last_failure_timestamp_seconds{flow="career"} ${Date.parse('2026-10-11T00:00:03Z') / 1000}`);
    expect(after).toContain(`maillon_last_success_timestamp_seconds{flow="career"} `);
  });

  it('run durations and reply latencies are histograms (issue 22: the reply latency was an all-time average)', async () => {
    const m = await scrape('2026-10-12T02:00:00Z');
    expect(m).toContain('# TYPE maillon_run_duration_seconds histogram');
    // Three finished runs of career: the fixture's, a failed one of 3 s, a successful one of 40 s.
    expect(m).toContain('maillon_run_duration_seconds_count{flow="career"} 3');
    expect(m).toMatch(/maillon_run_duration_seconds_bucket\{flow="career",le="5"\} 2\n/);
    expect(m).toMatch(/maillon_run_duration_seconds_bucket\{flow="career",le="30"\} 2\n/);
    expect(m).toMatch(/maillon_run_duration_seconds_bucket\{flow="career",le="60"\} 3\n/);
    const file = (await fx.db.pool.query(`SELECT f.name FROM maillon.files f JOIN maillon.submissions s USING (submission_id) WHERE s.sent_at IS NOT NULL LIMIT 1`)).rows[0].name;
    await fx.db.pool.query(`INSERT INTO maillon.replies (server, name, received_at, state, kind, file_name) VALUES ('s', 'ACRF.1', '2026-10-10T05:00:00Z', 'processed', 'ACRF', $1)`, [file]);
    const r = await scrape('2026-10-12T02:00:00Z');
    expect(r).toContain('# TYPE maillon_reply_latency_seconds histogram');
    expect(r).toMatch(/maillon_reply_latency_seconds_bucket\{flow="career",le="3600"\} 0\n/);
    expect(r).toMatch(/maillon_reply_latency_seconds_bucket\{flow="career",le="10800"\} 1\n/);
    expect(r).toContain('maillon_reply_latency_seconds_sum{flow="career"} 7200');
  });

  it("shows the queue, the instances' last tick, paused flows, periods near or past their deadline", async () => {
    await recordTick(fx.db.pool, 'T', new Date('2026-10-12T01:00:00Z'), new Date('2026-10-12T01:59:00Z'), 60);
    await setFlowPaused(fx.db.pool, 'T', 'career', true, new Date('2026-10-12T01:00:00Z'), 'receiver maintenance');
    const m = await scrape('2026-10-12T02:00:00Z');
    expect(m).toMatch(new RegExp(`maillon_instance_last_tick_timestamp_seconds\\{instance="[^"]+"\\} ${Date.parse('2026-10-12T01:59:00Z') / 1000}`));
    expect(m).toContain('maillon_flow_paused{flow="career"} 1');
    expect(m).toContain('maillon_queue_jobs{state="created"} 0');
    expect(m).toContain('maillon_running_runs 0');
    expect(m).toContain('maillon_given_up_periods{flow="career"} 0');
    // Career 2026-Q3 is sent, not delivered: its days to the deadline are exported; far after it, it is overdue.
    expect(m).toMatch(/maillon_period_days_remaining\{flow="career",period="2026-Q3"\} \d+/);
    expect(await scrape('2027-06-01T00:00:00Z', 400)).toMatch(/maillon_overdue_periods\{flow="career"\} [1-9]/);
  });

  it("counts the instance's own environment only: a test instance's submissions raise no production alert", async () => {
    const sub = (await fx.db.pool.query(`SELECT submission_id FROM maillon.submissions WHERE sent_at IS NOT NULL LIMIT 1`)).rows[0].submission_id;
    await fx.db.pool.query(
      `INSERT INTO maillon.transfer_attempts (submission_id, started_at, finished_at, outcome, server) VALUES ($1, '2026-10-10T02:30:00Z', '2026-10-10T02:31:00Z', 'failed', 'sftp.test')`,
      [sub],
    );
    const t = await scrape('2026-10-12T04:00:00Z');
    for (const seen of [
      /^maillon_overdue_submissions 1$/m,
      /^maillon_transfer_failures 1$/m,
      /^maillon_bytes_sent [1-9]\d*$/m,
      /^maillon_ack_latency_seconds [1-9]/m,
      /^maillon_runs\{flow="career",state="succeeded"\} [1-9]/m,
      /^maillon_records\{flow="career",outcome="emitted"\} [1-9]/m,
    ]) {
      expect(t).toMatch(seen);
    }
    const r = await scrape('2026-10-12T04:00:00Z', 30, 'R');
    for (const zero of ['maillon_overdue_submissions', 'maillon_transfer_failures', 'maillon_bytes_sent', 'maillon_ack_latency_seconds']) {
      expect(r).toMatch(new RegExp(`^${zero} 0$`, 'm'));
    }
    expect(r).not.toMatch(/^maillon_(runs|records)\{/m);
  });
});
