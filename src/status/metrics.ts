import { Gauge, Registry } from 'prom-client';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../domain/environment.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { pausedFlows } from '../ledger/flowPauses.js';
import { readQueue } from '../schedule/queueView.js';
import { readHeartbeats } from './heartbeat.js';
import type { LateRecordsStore } from './lateRecordsStore.js';
import { registerSqlHistogram } from './sqlHistogram.js';
import { DEADLINE_RISK_DAYS, type PeriodStatus, type StatusSnapshot, statusSnapshot } from './statusSnapshot.js';

/** What the metrics read besides the ledger: the clock, and the periods the status page shows. */
export interface MetricsOptions {
  clock: Clock;
  pipelines: readonly AnyPipeline[];
  environment: Environment;
  /** How far back the periods are counted, days (the status page's window). */
  windowDays: number;
  ackDelayHours: number;
  /** How far back serve catches up, days; periods due before are not counted as to do. Default: windowDays. */
  catchUpDays?: number;
  /**
   * The dossier: with it, a period whose dossier gained rows after its run counts as needing attention
   * (src/reconcile/lateRecords.ts), as in `maillon status`. serve passes its store of those counts,
   * refreshed at each tick (src/status/lateRecordsStore.ts): a scrape then reads no dossier row.
   */
  dossier?: Pool | LateRecordsStore;
}

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200];
const LATENCY_BUCKETS = [60, 300, 900, 3600, 10_800, 21_600, 43_200, 86_400, 172_800, 345_600, 604_800];

/**
 * Prometheus metrics computed from the ledger at each scrape, so every instance reports the same
 * truth. Gauges say what holds now (they go down when it is fixed); the histograms count every
 * run and reply the ledger keeps (they only grow, as Prometheus expects). docs/metrics.md.
 */
// pg returns sums of BIGINT and NUMERIC averages as text.
const numericText = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/)
  .transform(Number);
const RunCountRow = z.object({ flow: z.string(), state: z.string(), n: z.number() });
const RecordSumRow = z.object({ flow: z.string(), e: numericText.nullable(), m: numericText.nullable(), q: numericText.nullable() });
const count = z.object({ n: z.number() });
const FlowTime = z.object({ flow: z.string(), t: z.number().nullable() });

/**
 * Prometheus metrics computed from the ledger at each scrape, so every instance reports the same
 * truth; every metric counts the instance's environment only (another environment's overdue
 * submission or failed run must not raise this one's alerts).
 */
export function createMetrics(ledger: Pool, o: MetricsOptions): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => Promise<void>): void => {
    registry.registerMetric(
      new Gauge({
        name,
        help,
        labelNames,
        registers: [],
        async collect() {
          this.reset();
          await collect(this);
        },
      }),
    );
  };
  // One snapshot per scrape: the gauges read from it are computed at the same instant.
  let snap: { at: number; value: Promise<StatusSnapshot> } | null = null;
  const snapshot = (): Promise<StatusSnapshot> => {
    const now = o.clock.now();
    if (!snap || now.getTime() - snap.at > 1000) {
      snap = { at: now.getTime(), value: statusSnapshot(ledger, o.pipelines, o.environment, now, o.windowDays, o.ackDelayHours, o.catchUpDays, o.dossier) };
    }
    return snap.value;
  };
  gauge(
    'maillon_runs',
    'Runs by flow and state (dry runs excluded); a failed run counts only while it is the latest run of its period, so the failed series goes down once the period runs again.',
    ['flow', 'state'],
    async (g) => {
      const rows = await queryRows(
        ledger,
        `SELECT flow, state, count(*)::int AS n FROM maillon.runs r WHERE NOT dry_run AND environment = $1
         AND (state <> 'failed' OR NOT EXISTS (SELECT 1 FROM maillon.runs l WHERE l.flow = r.flow AND l.period = r.period AND l.environment = r.environment AND NOT l.dry_run AND l.run_id > r.run_id))
       GROUP BY 1, 2`,
        [o.environment],
        RunCountRow,
      );
      for (const r of rows) g.set({ flow: r.flow, state: r.state }, r.n);
    },
  );
  gauge('maillon_periods', 'Periods of the status window by flow and phase (to_do, in_progress, delivered, needs_attention, given_up), from the period view.', ['flow', 'phase'], async (g) => {
    for (const p of (await snapshot()).periods) g.inc({ flow: p.flow, phase: p.phase }, 1);
  });
  gauge(
    'maillon_period_states',
    'Periods of the status window by flow and state (planned, running, failed, given_up, nothing_to_send, written, sent, accepted…), from the period view.',
    ['flow', 'state'],
    async (g) => {
      for (const p of (await snapshot()).periods) g.inc({ flow: p.flow, state: p.state }, 1);
    },
  );
  gauge('maillon_given_up_periods', 'Periods serve gave up after too many failed runs, by flow.', ['flow'], async (g) => {
    for (const f of o.pipelines) g.set({ flow: f.id }, 0);
    for (const p of (await snapshot()).periods) if (p.phase === 'given_up') g.inc({ flow: p.flow }, 1);
  });
  gauge(
    'maillon_period_days_remaining',
    `Days until the deadline of each period not delivered yet (negative: past its deadline); closed periods are left out, and so are periods outside serve's catch-up window whose deadline passed more than ${DEADLINE_RISK_DAYS} days ago.`,
    ['flow', 'period'],
    async (g) => {
      for (const p of (await snapshot()).periods) if (deadlineWatched(p)) g.set({ flow: p.flow, period: p.period }, p.daysRemaining);
    },
  );
  gauge('maillon_overdue_periods', 'Periods past their deadline and not delivered, by flow (the periods of maillon_period_days_remaining below 0).', ['flow'], async (g) => {
    for (const f of o.pipelines) g.set({ flow: f.id }, 0);
    for (const p of (await snapshot()).periods) if (deadlineWatched(p) && p.daysRemaining < 0) g.inc({ flow: p.flow }, 1);
  });
  gauge(
    'maillon_outside_window_periods',
    `Periods serve will not run (to do, due before its catch-up window MAILLON_CATCHUP_DAYS) whose deadline is at most ${DEADLINE_RISK_DAYS} days away or passed at most ${DEADLINE_RISK_DAYS} days ago, by flow: an operator must run them.`,
    ['flow'],
    async (g) => {
      for (const f of o.pipelines) g.set({ flow: f.id }, 0);
      for (const p of (await snapshot()).periods) if (p.outsideCatchUp && deadlineWatched(p) && p.daysRemaining <= DEADLINE_RISK_DAYS) g.inc({ flow: p.flow }, 1);
    },
  );
  gauge('maillon_last_success_timestamp_seconds', 'When the latest successful run of each flow finished (Unix time).', ['flow'], async (g) => {
    const rows = await queryRows(
      ledger,
      `SELECT flow, extract(epoch FROM max(finished_at))::float8 AS t FROM maillon.runs WHERE state = 'succeeded' AND NOT dry_run AND environment = $1 GROUP BY flow`,
      [o.environment],
      FlowTime,
    );
    for (const r of rows) if (r.t !== null) g.set({ flow: r.flow }, r.t);
  });
  gauge('maillon_last_failure_timestamp_seconds', 'When the latest failed run of each flow ended (Unix time).', ['flow'], async (g) => {
    const rows = await queryRows(
      ledger,
      `SELECT flow, extract(epoch FROM max(coalesce(finished_at, started_at)))::float8 AS t FROM maillon.runs WHERE state = 'failed' AND NOT dry_run AND environment = $1 GROUP BY flow`,
      [o.environment],
      FlowTime,
    );
    for (const r of rows) if (r.t !== null) g.set({ flow: r.flow }, r.t);
  });
  registerSqlHistogram(registry, ledger, {
    name: 'maillon_run_duration_seconds',
    help: 'Duration of the finished runs (dry runs excluded), by flow.',
    label: 'flow',
    buckets: DURATION_BUCKETS,
    sql: `SELECT flow AS label, extract(epoch FROM finished_at - started_at)::float8 AS v FROM maillon.runs WHERE NOT dry_run AND finished_at IS NOT NULL AND environment = $1`,
    params: () => [o.environment],
  });
  registerSqlHistogram(registry, ledger, {
    name: 'maillon_reply_latency_seconds',
    help: 'Time from sending a submission to its first processed reply, by flow.',
    label: 'flow',
    buckets: LATENCY_BUCKETS,
    sql: `SELECT s.flow AS label, extract(epoch FROM first.received_at - s.sent_at)::float8 AS v FROM maillon.submissions s
          JOIN LATERAL (SELECT min(rp.received_at) AS received_at FROM maillon.replies rp JOIN maillon.files f ON f.name = rp.file_name WHERE f.submission_id = s.submission_id AND rp.state = 'processed') first ON first.received_at IS NOT NULL
          WHERE s.sent_at IS NOT NULL AND s.environment = $1`,
    params: () => [o.environment],
  });
  gauge('maillon_queue_jobs', 'Jobs of the scheduler queue (pg-boss) by state: created and retry wait, active are taken.', ['state'], async (g) => {
    const q = await readQueue(ledger, o.environment);
    for (const state of ['created', 'retry', 'active']) g.set({ state }, q.depth[state] ?? 0);
  });
  gauge('maillon_running_runs', 'Runs alive now (their session holds their lock).', [], async (g) => {
    g.set((await readQueue(ledger, o.environment)).running.length);
  });
  gauge('maillon_instance_last_tick_timestamp_seconds', 'When each maillon serve instance last ticked (Unix time); seen within a week.', ['instance'], async (g) => {
    for (const h of await readHeartbeats(ledger, o.environment, o.clock.now())) g.set({ instance: h.instance }, h.lastTickAt.getTime() / 1000);
  });
  gauge('maillon_flow_paused', 'Whether each flow is paused (maillon pause): 1 paused, 0 not.', ['flow'], async (g) => {
    const paused = await pausedFlows(ledger, o.environment);
    for (const p of o.pipelines) g.set({ flow: p.id }, paused.has(p.id) ? 1 : 0);
  });
  registerLedgerTotals(gauge, ledger, o);
  return registry;
}

/**
 * A period whose deadline the metrics follow: not delivered, not closed. One serve will not run
 * (outside its catch-up window) is followed until its deadline is more than the risk window past:
 * serve missed it (stopped longer than the window), and only an operator can send it. Older ones
 * are left out: a fresh install with a short window would otherwise alert on every ancient period.
 */
function deadlineWatched(p: PeriodStatus): boolean {
  return p.phase !== 'delivered' && p.category !== 'closed' && (!p.outsideCatchUp || p.daysRemaining >= -DEADLINE_RISK_DAYS);
}

type GaugeMaker = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => Promise<void>) => void;

/** The ledger's totals (records, bytes, transfer failures) and the overdue acknowledgements. */
function registerLedgerTotals(gauge: GaugeMaker, ledger: Pool, o: MetricsOptions): void {
  gauge('maillon_records', 'Records extracted, emitted and quarantined by the successful runs, by flow.', ['flow', 'outcome'], async (g) => {
    const rows = await queryRows(
      ledger,
      `SELECT flow, sum(extracted)::bigint AS e, sum(emitted)::bigint AS m, sum(quarantined)::bigint AS q FROM maillon.runs WHERE state = 'succeeded' AND NOT dry_run AND environment = $1 GROUP BY flow`,
      [o.environment],
      RecordSumRow,
    );
    for (const r of rows) {
      g.set({ flow: r.flow, outcome: 'extracted' }, Number(r.e));
      g.set({ flow: r.flow, outcome: 'emitted' }, Number(r.m));
      g.set({ flow: r.flow, outcome: 'quarantined' }, Number(r.q));
    }
  });
  gauge('maillon_bytes_sent', 'Bytes of the files of sent submissions.', [], async (g) => {
    const r = await queryFirst(
      ledger,
      `SELECT coalesce(sum(f.bytes), 0)::bigint AS b FROM maillon.files f JOIN maillon.submissions s USING (submission_id) WHERE s.sent_at IS NOT NULL AND s.environment = $1`,
      [o.environment],
      z.object({ b: numericText }),
    );
    g.set(r?.b ?? 0);
  });
  gauge('maillon_transfer_failures', 'Failed transfer attempts.', [], async (g) => {
    g.set(
      (
        await queryFirst(
          ledger,
          `SELECT count(*)::int AS n FROM maillon.transfer_attempts t JOIN maillon.submissions s USING (submission_id) WHERE t.outcome = 'failed' AND s.environment = $1`,
          [o.environment],
          count,
        )
      )?.n ?? 0,
    );
  });
  gauge('maillon_ack_latency_seconds', 'Average time from sending a submission to its first reply (kept for existing dashboards; maillon_reply_latency_seconds is the histogram).', [], async (g) => {
    const r = await queryFirst(
      ledger,
      `SELECT avg(extract(epoch FROM first.received_at - s.sent_at)) AS s FROM maillon.submissions s
       JOIN LATERAL (SELECT min(rp.received_at) AS received_at FROM maillon.replies rp JOIN maillon.files f ON f.name = rp.file_name WHERE f.submission_id = s.submission_id AND rp.state = 'processed') first ON first.received_at IS NOT NULL
       WHERE s.sent_at IS NOT NULL AND s.environment = $1`,
      [o.environment],
      z.object({ s: numericText.nullable() }),
    );
    g.set(r?.s ?? 0);
  });
  gauge('maillon_overdue_submissions', 'Submissions sent without an ACRF after the configured delay.', [], async (g) => {
    const r = await queryFirst(
      ledger,
      `SELECT count(*)::int AS n FROM maillon.submissions WHERE state = 'sent' AND environment = $3 AND sent_at < $2::timestamptz - make_interval(hours => $1)`,
      [o.ackDelayHours, o.clock.now(), o.environment],
      count,
    );
    g.set(r?.n ?? 0);
  });
}
