import type { Metric, Registry } from 'prom-client';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';

/** A count(*)::bigint, which pg returns as text. */
const bigintCount = z.string().regex(/^\d+$/).transform(Number);

/**
 * Registers a Prometheus histogram whose buckets are counted by PostgreSQL at each scrape: `sql`
 * returns one row per label value with a column `label` and a column `v` (seconds); the counts
 * per bucket, sum and count are aggregated in the database, so the scrape reads one row per
 * label whatever the number of observations. Every observation is kept in the ledger (runs,
 * replies are never deleted), so the counts only grow, as a histogram's must.
 */
export function registerSqlHistogram(registry: Registry, ledger: Pool, o: { name: string; help: string; label: string; buckets: readonly number[]; sql: string; params: () => unknown[] }): void {
  const cols = o.buckets.map((b, i) => `count(*) FILTER (WHERE v <= ${Number(b)})::bigint AS b${i}`).join(', ');
  const Row = z.object({ label: z.string(), s: z.number(), n: bigintCount, ...Object.fromEntries(o.buckets.map((_, i) => [`b${i}`, bigintCount])) });
  const bucket = (r: Record<string, unknown>, i: number): number => Number(r[`b${i}`]);
  const metric = {
    name: o.name,
    help: o.help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const rows = await queryRows(ledger, `SELECT label, ${cols}, coalesce(sum(v), 0)::float8 AS s, count(*)::bigint AS n FROM (${o.sql}) x GROUP BY label ORDER BY label`, o.params(), Row);
      const values = rows.flatMap((r) => {
        const labels = { [o.label]: r.label };
        return [
          ...o.buckets.map((b, i) => ({ metricName: `${o.name}_bucket`, labels: { ...labels, le: b }, value: bucket(r, i) })),
          { metricName: `${o.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: r.n },
          { metricName: `${o.name}_sum`, labels, value: r.s },
          { metricName: `${o.name}_count`, labels, value: r.n },
        ];
      });
      return { name: o.name, help: o.help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  registry.registerMetric(metric as unknown as Metric);
}
