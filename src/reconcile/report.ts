import type { Environment } from '../domain/environment.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { NotFoundError } from '../errors/errors.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { ledgerId } from '../ledger/rowSchemas.js';
import { brusselsDate, daysBetween, type LocalDate } from '../period/localDate.js';
import { parsePeriod } from '../period/period.js';
import { builtOnRejected } from '../ledger/builtOnRejected.js';
import { mayHold } from '../ledger/periodState.js';
import { type Phase, readPeriodView } from '../ledger/periodView.js';
import { type Delivery, readDelivery } from './delivery.js';
import { readReportLists } from './runLists.js';
import { emptyLineage, lineageCheck, quarantineByRuleCheck } from './lineageChecks.js';
import { type ReplyIssue, readReplyIssues } from './replyIssues.js';
import { unaccounted } from './unaccounted.js';
import { finalStatesCheck, lineageRowsCheck, oneFileCheck, versionCheck } from './versionChecks.js';
import { type LateRecords, readLateRecords, withLateRecords } from './lateRecords.js';
import { acceptedAfterRejectRecords, answeredAfterCancelRecords, holdings, type PeriodVersion, pendingRecords, readVersions, type ReceiverHolding } from './versions.js';

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
  receivers: {
    phase: Phase;
    state: string;
    action: string | null;
    submissions: { id: number; runId: number; receiver: string; kind: string; state: string }[];
    /** What each receiver holds now: the files of its live submissions, whatever version they came from. */
    holds: ReceiverHolding[];
  };
  checks: ReportCheck[];
  /** Every version of the period sent or written (original, corrections, full replacements), oldest first, with who ran it and why. */
  versions: PeriodVersion[];
  /** Records of every version still without a final state (their file not yet answered by the receiver). */
  pendingRecords: number;
  /** Records of every version in a cancelled submission its receiver answered since and may hold (not a final state). */
  answeredAfterCancelRecords: number;
  /** Records of every version in a rejected file whose receiver accepted its submission in a later reply and may hold it (not a final state). */
  acceptedAfterRejectRecords: number;
  /**
   * Live corrections or replacements built on a version their receiver rejected after they were
   * written (the records of that version they do not carry are held by no receiver); empty when none.
   */
  builtOnRejected: { submissionId: number; kind: string; receiver: string; state: string; rejected: number[] }[];
  /** Every check holds and every record of every version has a final state: only then is every record accounted for. */
  accountedFor: boolean;
  /** Why not every record is accounted for, as a sentence for the operator; null when every record is. */
  unaccounted: string | null;
  /** Rows of the period that reached the dossier after its run and no version answers (first keys named); null when not counted (no dossier given, or the flow declares no `extract.keysSql`). */
  lateRecords: LateRecords | null;
}

const RunRow = z.object({
  run_id: ledgerId,
  as_of: z.date(),
  started_at: z.date(),
  finished_at: z.date(),
  extracted: z.number(),
  emitted: z.number(),
  quarantined: z.number(),
  unchanged: z.number().nullable(),
  cancelled: z.number().nullable(),
  kind: z.string(),
  reason: z.string().nullable(),
  previous_run_id: ledgerId.nullable(),
  facts: z.record(z.string(), z.unknown()).nullable(),
});
const FileRow = z.object({
  name: z.string(),
  path: z.string(),
  receiver: z.string(),
  records: z.number(),
  bytes: ledgerId,
  sha256: z.string(),
  sequence: z.string(),
  file_key: z.string(),
});

/** Builds the whole report in memory (its lists too): for tests and small periods; the command streams instead. */
export async function buildReport(ledger: Pool, pipeline: AnyPipeline, periodKey: string, environment: Environment, now: Date, ackDelayHours = 48, dossier?: Pool): Promise<Report> {
  const head = await readReportHead(ledger, pipeline, periodKey, environment, now, ackDelayHours, dossier);
  const lists = readReportLists(ledger, head.runId);
  for await (const q of lists.quarantine) head.quarantine.push(q);
  for await (const i of lists.recordIssues) head.delivery.recordIssues.push(i);
  for await (const a of lists.unmatchedAnomalies) head.delivery.unmatchedAnomalyList.push(a);
  return head;
}

/**
 * The report without its long lists (`quarantine`, `delivery.recordIssues` and `delivery.unmatchedAnomalyList` are left empty:
 * read them with {@link readReportLists}, which streams them); the counts are recounted from the
 * lineage and checked.
 */
export async function readReportHead(ledger: Pool, pipeline: AnyPipeline, periodKey: string, environment: Environment, now: Date, ackDelayHours = 48, dossier?: Pool): Promise<Report> {
  const late = dossier ? await readLateRecords(dossier, ledger, pipeline, periodKey, environment) : null;
  const view = withLateRecords(await readPeriodView(ledger, environment, pipeline.id, periodKey, { now, ackDelayHours }), late);
  const r = await queryFirst(
    ledger,
    `SELECT run_id, as_of, started_at, finished_at, extracted, emitted, quarantined, unchanged, cancelled, kind, reason, previous_run_id, facts FROM maillon.runs
     WHERE run_id = $1`,
    [view.reportRunId],
    RunRow,
  );
  if (!r) {
    throw new NotFoundError(`No successful run of ${pipeline.id} for ${periodKey} in environment ${environment}; run "maillon run ${pipeline.id} --period ${periodKey} --env ${environment}" first.`);
  }
  const runId = r.run_id;
  const files = await queryRows(
    ledger,
    `SELECT f.name, f.path, f.receiver, f.records, f.bytes, f.sha256, s.sequence, f.file_key
     FROM maillon.files f JOIN maillon.submissions s USING (submission_id) WHERE f.run_id = $1 ORDER BY f.name`,
    [runId],
    FileRow,
  );
  // Each version's lineage is read once, counted by outcome, rule and file, with its records'
  // states: the reported run is among them.
  const { versions, lineage } = await readVersions(ledger, pipeline.id, periodKey, environment);
  const tally = lineage.get(runId) ?? emptyLineage();
  const delivery = await readDelivery(ledger, runId, now, ackDelayHours, versions.find((v) => v.runId === runId)?.records);
  const replyIssues = await readReplyIssues(ledger, pipeline.id, periodKey, environment);
  const counts = { extracted: r.extracted, emitted: r.emitted, quarantined: r.quarantined };
  const quarantineByRule: Record<string, number> = {};
  for (const rule of [...tally.byRule.keys()].sort((a, b) => (a < b ? -1 : 1))) quarantineByRule[rule] = tally.byRule.get(rule)!;
  const deadline = pipeline.deadline(parsePeriod(periodKey));
  const report: Report = {
    flow: pipeline.id,
    period: periodKey,
    environment,
    asOf: r.as_of.toISOString(),
    runId,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at.toISOString(),
    counts,
    quarantineByRule,
    quarantine: [],
    files: files.map((f) => ({
      name: f.name,
      path: f.path,
      receiver: f.receiver,
      records: f.records,
      bytes: f.bytes,
      sha256: f.sha256,
      sequence: f.sequence,
    })),
    deadline,
    daysRemaining: daysBetween(brusselsDate(now), deadline),
    facts: r.facts,
    delivery,
    overdue: delivery.files.filter((f) => f.overdue).length,
    replyIssues,
    receivers: {
      phase: view.phase,
      state: view.state,
      action: view.action,
      submissions: view.submissions.map((x) => ({ id: x.id, runId: x.runId, receiver: x.receiver, kind: x.kind, state: x.state })),
      holds: holdings(versions, view.submissions),
    },
    checks: [
      versionCheck(counts, r.unchanged ?? 0, r.cancelled ?? 0),
      lineageRowsCheck(tally, counts, r.cancelled ?? 0),
      finalStatesCheck(delivery.records, counts),
      oneFileCheck(files, tally, counts),
      quarantineByRuleCheck(runId, quarantineByRule, counts.quarantined),
      // Every version's lineage, outcome by outcome, against what its run counted.
      ...versions.map((v) => lineageCheck(v, lineage.get(v.runId) ?? emptyLineage())),
    ],
    versions,
    pendingRecords: pendingRecords(versions),
    answeredAfterCancelRecords: answeredAfterCancelRecords(versions),
    acceptedAfterRejectRecords: acceptedAfterRejectRecords(versions),
    builtOnRejected: builtOnRejected(view.submissions).map((x) => ({ submissionId: x.id, kind: x.kind, receiver: x.receiver, state: x.state, rejected: [...(x.rejectedBase ?? [])] })),
    accountedFor: false,
    unaccounted: null,
    lateRecords: late,
  };
  report.unaccounted = unaccounted(report, mayHold(view.submissions));
  report.accountedFor = report.unaccounted === null;
  return report;
}
