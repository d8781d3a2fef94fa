import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import type { Environment } from '../domain/environment.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { extractionParams } from '../engine/renderFiles.js';
import { bindSql } from '../extract/bindSql.js';
import type { PeriodView } from '../ledger/periodView.js';
import { parsePeriod } from '../period/period.js';

/** Dossier rows of a period that no run of it read: they reached the dossier after its runs. */
export interface LateRecords {
  count: number;
  /** The first source keys, in byte order (at most 5), to name them. */
  keys: string[];
}

/**
 * The rows the dossier now has for a run period that its lineage does not know: the flow's
 * `extract.keysSql` (the period's source keys, no computation) anti-joined by source key against
 * every record of every successful run of the period. Null when the flow declares no such query,
 * or when no run succeeded (nothing claims the period is complete). Two queries, whatever the size.
 */
export async function readLateRecords(dossier: Pool, ledger: Pool, pipeline: AnyPipeline, periodKey: string, environment: Environment): Promise<LateRecords | null> {
  if (!pipeline.extract.keysSql) return null;
  const period = parsePeriod(periodKey);
  const sql = bindSql(pipeline.extract.keysSql, extractionParams(period, period.end));
  const keys = (await queryRows(dossier, sql, [], z.object({ key: z.string() }))).map((r) => r.key);
  const late = await queryFirst(
    ledger,
    `SELECT count(*)::int AS count, coalesce((array_agg(k.key ORDER BY k.key COLLATE "C"))[1:5], '{}') AS keys, EXISTS (${SUCCEEDED}) AS run
     FROM unnest($4::text[]) AS k (key)
     WHERE NOT EXISTS (SELECT 1 FROM maillon.record_outcomes o WHERE o.source_key = k.key AND o.run_id IN (SELECT r.run_id FROM (${SUCCEEDED}) r))`,
    [pipeline.id, periodKey, environment, keys],
    z.object({ count: z.number(), keys: z.array(z.string()), run: z.boolean() }),
  );
  return late?.run ? { count: late.count, keys: late.keys } : null;
}

const SUCCEEDED = `SELECT run_id FROM maillon.runs WHERE flow = $1 AND period = $2 AND environment = $3 AND state = 'succeeded' AND NOT dry_run`;

/**
 * The view of a period whose receivers hold (or were told there was nothing to send) all its run
 * read, with rows that reached the dossier since: it is not complete, it needs attention, and the
 * action names the command that answers them (a rerun sends them as new records; with nothing
 * held, a run writes the period's originals). Unchanged but for the count (0) when nothing is
 * late; unchanged when a run is alive or the period is not run.
 */
export function withLateRecords(view: PeriodView, late: LateRecords | null): PeriodView {
  if (!late || view.running || (view.phase !== 'delivered' && view.phase !== 'in_progress' && view.phase !== 'needs_attention')) return view;
  if (late.count === 0) return { ...view, lateRecords: 0 };
  const env = `--period ${view.period} --env ${view.environment}`;
  const cmd = view.live.length > 0 ? `maillon rerun ${view.flow} ${env} --reason "records that reached the dossier after the period's run"` : `maillon run ${view.flow} ${env}`;
  const named = `${late.keys.join(', ')}${late.count > late.keys.length ? ', …' : ''}`;
  const sentence = `${late.count} record(s) of this period reached the dossier after its run and are not answered (${named}): ${cmd} sends them.`;
  return { ...view, phase: 'needs_attention', action: view.action ? `${view.action} ${sentence}` : sentence, lateRecords: late.count };
}
