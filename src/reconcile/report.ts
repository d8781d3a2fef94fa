import type { Environment } from '../config/config.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { NotFoundError } from '../errors/errors.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { brusselsDate, daysBetween, type LocalDate } from '../period/localDate.js';
import { parsePeriod } from '../period/period.js';
import { type Phase, readPeriodView } from '../ledger/periodView.js';
import { type Delivery, readDelivery } from './delivery.js';
import { type ReplyIssue, readReplyIssues } from './replyIssues.js';

/** One quarantined record in a report. */
export interface QuarantineEntry {
  rule: string;
  sourceKey: string;
  message: string;
}

/** One published file in a report. */
export interface ReportFile {
  name: string;
  path: string;
  receiver: string;
  records: number;
  bytes: number;
  sha256: string;
  sequence: string;
}

/** A named check of the report, true when it holds. */
export interface ReportCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * The reconciliation report of a flow's period and environment: the latest successful (non-dry)
 * run that was not entirely cancelled, with where the period stands for its receivers. Stable
 * JSON: fields are only ever added, never renamed.
 */
export interface Report {
  flow: string;
  period: string;
  environment: Environment;
  asOf: string;
  runId: number;
  startedAt: string;
  finishedAt: string;
  counts: { extracted: number; emitted: number; quarantined: number };
  quarantineByRule: Record<string, number>;
  quarantine: QuarantineEntry[];
  files: ReportFile[];
  deadline: LocalDate;
  daysRemaining: number;
  /** Facts the flow reports beside its records (e.g. unallocated payments left out), or null. */
  facts: Record<string, unknown> | null;
  /** Where the files and records stand on the channel (sent, acknowledged, accepted…). */
  delivery: Delivery;
  /** Files sent without an ACRF after the configured delay. */
  overdue: number;
  /** Replies about the period's files (any run) that were set aside or not believed, with why. */
  replyIssues: ReplyIssue[];
  /** Where the period stands for its receivers (the period view), whatever run this report shows. */
  receivers: { phase: Phase; state: string; action: string | null; submissions: { id: number; runId: number; receiver: string; kind: string; state: string }[] };
  checks: ReportCheck[];
}

// The report's run is a successful one: its counts and end are set.
const RunRow = z.object({
  run_id: z.string(), as_of: z.date(), started_at: z.date(), finished_at: z.date(), extracted: z.number(), emitted: z.number(), quarantined: z.number(),
  unchanged: z.number().nullable(), cancelled: z.number().nullable(), facts: z.record(z.string(), z.unknown()).nullable(),
});
const QuarantineRow = z.object({ rule: z.string(), sourceKey: z.string(), message: z.string() });
const FileRow = z.object({ name: z.string(), path: z.string(), receiver: z.string(), records: z.number(), bytes: z.string(), sha256: z.string(), sequence: z.string(), lineage: z.number() });
const TallyRow = z.object({ outcome: z.string(), n: z.number() });

/** Builds the report from the ledger; the counts are recounted from the lineage and checked. */
export async function buildReport(
  ledger: Pool,
  pipeline: AnyPipeline,
  periodKey: string,
  environment: Environment,
  now: Date,
  ackDelayHours = 48,
): Promise<Report> {
  const view = await readPeriodView(ledger, environment, pipeline.id, periodKey, { now, ackDelayHours });
  const r = await queryFirst(
    ledger,
    `SELECT run_id, as_of, started_at, finished_at, extracted, emitted, quarantined, unchanged, cancelled, kind, reason, previous_run_id, facts FROM maillon.runs
     WHERE run_id = $1`,
    [view.reportRunId],
    RunRow,
  );
  if (!r) {
    throw new NotFoundError(
      `No successful run of ${pipeline.id} for ${periodKey} in environment ${environment}; run "maillon run ${pipeline.id} --period ${periodKey} --env ${environment}" first.`,
    );
  }
  const runId = Number(r.run_id);
  const [quarantine, files, tally] = await Promise.all([
    queryRows(
      ledger,
      `SELECT rule, source_key AS "sourceKey", message FROM maillon.record_outcomes
       WHERE run_id = $1 AND outcome = 'quarantined' ORDER BY rule, source_key COLLATE "C"`,
      [runId],
      QuarantineRow,
    ),
    queryRows(
      ledger,
      `SELECT f.name, f.path, f.receiver, f.records, f.bytes, f.sha256, s.sequence,
              (SELECT count(*) FROM maillon.record_outcomes o WHERE o.run_id = f.run_id AND o.file_key = f.file_key)::int AS lineage
       FROM maillon.files f JOIN maillon.submissions s USING (submission_id) WHERE f.run_id = $1 ORDER BY f.name`,
      [runId],
      FileRow,
    ),
    queryRows(ledger, `SELECT outcome, count(*)::int AS n FROM maillon.record_outcomes WHERE run_id = $1 GROUP BY outcome`, [runId], TallyRow),
  ]);
  const delivery = await readDelivery(ledger, runId, now, ackDelayHours);
  const replyIssues = await readReplyIssues(ledger, pipeline.id, periodKey, environment);
  const finalStates = delivery.records.accepted + delivery.records.acceptedWithAnomalies + delivery.records.rejected + delivery.records.pending + delivery.records.cancelled;
  const counts = { extracted: r.extracted, emitted: r.emitted, quarantined: r.quarantined };
  const lineageEmitted = tally.find((t) => t.outcome === 'emitted')?.n ?? 0;
  const lineageQuarantined = tally.find((t) => t.outcome === 'quarantined')?.n ?? 0;
  const lineageUnchanged = tally.find((t) => t.outcome === 'unchanged')?.n ?? 0;
  const fileRecords = files.reduce((n, f) => n + f.records, 0);
  const quarantineByRule: Record<string, number> = {};
  for (const q of quarantine) quarantineByRule[q.rule] = (quarantineByRule[q.rule] ?? 0) + 1;
  const deadline = pipeline.deadline(parsePeriod(periodKey));
  return {
    flow: pipeline.id,
    period: periodKey,
    environment,
    asOf: r.as_of.toISOString(),
    runId,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at.toISOString(),
    counts,
    quarantineByRule,
    quarantine: quarantine,
    files: files.map((f) => ({
      name: f.name, path: f.path, receiver: f.receiver, records: f.records, bytes: Number(f.bytes), sha256: f.sha256, sequence: f.sequence,
    })),
    deadline,
    daysRemaining: daysBetween(brusselsDate(now), deadline),
    facts: r.facts,
    delivery,
    overdue: delivery.files.filter((f) => f.overdue).length,
    replyIssues,
    receivers: {
      phase: view.phase, state: view.state, action: view.action,
      submissions: view.submissions.map((x) => ({ id: x.id, runId: x.runId, receiver: x.receiver, kind: x.kind, state: x.state })),
    },
    checks: [
      versionCheck(counts, Number(r.unchanged ?? 0), Number(r.cancelled ?? 0)),
      check(
        'lineage holds one row per record',
        lineageEmitted + lineageQuarantined + lineageUnchanged === counts.extracted + Number(r.cancelled ?? 0),
        `${lineageEmitted} emitted + ${lineageQuarantined} quarantined + ${lineageUnchanged} unchanged in the lineage`,
      ),
      check('every emitted record has a final state', finalStates === counts.emitted, `${delivery.records.accepted} accepted, ${delivery.records.acceptedWithAnomalies} with anomalies, ${delivery.records.rejected} rejected, ${delivery.records.pending} pending${delivery.records.cancelled ? `, ${delivery.records.cancelled} cancelled` : ''}`),
      check('every emitted record is in exactly one file', fileRecords === counts.emitted && files.every((f) => f.lineage === f.records), `${fileRecords} records in ${files.length} file(s)`),
    ],
  };
}

/** extracted = emitted + quarantined; in a rerun, extracted + cancelled = emitted + quarantined + unchanged. */
function versionCheck(c: { extracted: number; emitted: number; quarantined: number }, unchanged: number, cancelled: number): ReportCheck {
  if (unchanged === 0 && cancelled === 0) return check('extracted = emitted + quarantined', c.extracted === c.emitted + c.quarantined, `${c.extracted} = ${c.emitted} + ${c.quarantined}`);
  return check(
    'extracted + cancelled = emitted + quarantined + unchanged',
    c.extracted + cancelled === c.emitted + c.quarantined + unchanged,
    `${c.extracted} + ${cancelled} = ${c.emitted} + ${c.quarantined} + ${unchanged}`,
  );
}

function check(name: string, ok: boolean, detail: string): ReportCheck {
  return { name, ok, detail };
}
