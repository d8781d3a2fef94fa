import { Gauge, Registry } from 'prom-client';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../config/config.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { statusSnapshot } from './statusSnapshot.js';

/** What the metrics read besides the ledger: the clock, and the periods the status page shows. */
export interface MetricsOptions {
  clock: Clock;
  pipelines: readonly AnyPipeline[];
  environment: Environment;
  /** How far back the periods are counted, days (the status page's window). */
  windowDays: number;
  ackDelayHours: number;
}

// pg returns sums of BIGINT and NUMERIC averages as text.
const numericText = z.string().regex(/^-?\d+(\.\d+)?$/).transform(Number);
const RunCountRow = z.object({ flow: z.string(), state: z.string(), n: z.number() });
const RecordSumRow = z.object({ flow: z.string(), e: numericText.nullable(), m: numericText.nullable(), q: numericText.nullable() });
const count = z.object({ n: z.number() });

/** Prometheus metrics computed from the ledger at each scrape, so every instance reports the same truth. */
export function createMetrics(ledger: Pool, o: MetricsOptions): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => Promise<void>): void => {
    registry.registerMetric(new Gauge({ name, help, labelNames, registers: [], async collect() { this.reset(); await collect(this); } }));
  };
  gauge('maillon_runs', 'Runs by flow and state (dry runs excluded).', ['flow', 'state'], async (g) => {
    for (const r of await queryRows(ledger, `SELECT flow, state, count(*)::int AS n FROM maillon.runs WHERE NOT dry_run GROUP BY 1, 2`, [], RunCountRow)) g.set({ flow: r.flow, state: r.state }, r.n);
  });
  gauge('maillon_periods', 'Periods of the status window by flow and phase (to_do, in_progress, delivered, needs_attention, given_up), from the period view.', ['flow', 'phase'], async (g) => {
    const s = await statusSnapshot(ledger, o.pipelines, o.environment, o.clock.now(), o.windowDays, o.ackDelayHours);
    for (const p of s.periods) g.inc({ flow: p.flow, phase: p.phase }, 1);
  });
  gauge('maillon_records', 'Records extracted, emitted and quarantined by the successful runs, by flow.', ['flow', 'outcome'], async (g) => {
    const rows = await queryRows(ledger, `SELECT flow, sum(extracted)::bigint AS e, sum(emitted)::bigint AS m, sum(quarantined)::bigint AS q FROM maillon.runs WHERE state = 'succeeded' AND NOT dry_run GROUP BY flow`, [], RecordSumRow);
    for (const r of rows) {
      g.set({ flow: r.flow, outcome: 'extracted' }, Number(r.e));
      g.set({ flow: r.flow, outcome: 'emitted' }, Number(r.m));
      g.set({ flow: r.flow, outcome: 'quarantined' }, Number(r.q));
    }
  });
  gauge('maillon_bytes_sent', 'Bytes of the files of sent submissions.', [], async (g) => {
    const r = await queryFirst(ledger, `SELECT coalesce(sum(f.bytes), 0)::bigint AS b FROM maillon.files f JOIN maillon.submissions s USING (submission_id) WHERE s.sent_at IS NOT NULL`, [], z.object({ b: numericText }));
    g.set(r?.b ?? 0);
  });
  gauge('maillon_transfer_failures', 'Failed transfer attempts.', [], async (g) => {
    g.set((await queryFirst(ledger, `SELECT count(*)::int AS n FROM maillon.transfer_attempts WHERE outcome = 'failed'`, [], count))?.n ?? 0);
  });
  gauge('maillon_ack_latency_seconds', 'Average time from sending a submission to its first reply.', [], async (g) => {
    const r = await queryFirst(
      ledger,
      `SELECT avg(extract(epoch FROM first.received_at - s.sent_at)) AS s FROM maillon.submissions s
       JOIN LATERAL (SELECT min(rp.received_at) AS received_at FROM maillon.replies rp JOIN maillon.files f ON f.name = rp.file_name WHERE f.submission_id = s.submission_id AND rp.state = 'processed') first ON first.received_at IS NOT NULL
       WHERE s.sent_at IS NOT NULL`,
      [],
      z.object({ s: numericText.nullable() }),
    );
    g.set(r?.s ?? 0);
  });
  gauge('maillon_overdue_submissions', 'Submissions sent without an ACRF after the configured delay.', [], async (g) => {
    const r = await queryFirst(ledger, `SELECT count(*)::int AS n FROM maillon.submissions WHERE state = 'sent' AND sent_at < $2::timestamptz - make_interval(hours => $1)`, [o.ackDelayHours, o.clock.now()], count);
    g.set(r?.n ?? 0);
  });
  return registry;
}
