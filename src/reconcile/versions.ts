import type { Environment } from '../config/config.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { ledgerId } from '../ledger/rowSchemas.js';
import { mayHold } from '../ledger/periodState.js';
import { isLive } from '../ledger/transitions.js';
import { type RecordStates, recordStateCountsSql } from './delivery.js';
import { addLineageGroup, emptyLineage, type LineageCounts } from './lineageChecks.js';

/** One file of a version, with where its submission stands for its receiver. */
export interface VersionFile {
  name: string;
  receiver: string;
  records: number;
  bytes: number;
  sha256: string;
  sequence: string;
  submissionId: number;
  /** original, correction, replacement (or duplicate, in ledgers written before one live original was enforced). */
  submissionKind: string;
  /** written, sent, received, accepted, accepted_with_anomalies, rejected, cancelled. */
  state: string;
  ack: string | null;
  noti: string | null;
  sentAt: string | null;
  /** Cancelled after its GO was started, then answered by the receiver: it took the GO before the TD. */
  answeredAfterCancel: boolean;
}

/**
 * One version of the period a successful run wrote: the original, a correction, a full
 * replacement; with who ran it and why, what it counted and where its files and records stand.
 */
export interface PeriodVersion {
  runId: number;
  /** original, correction or full-replacement. */
  kind: string;
  reason: string | null;
  startedBy: string;
  startedAt: string;
  finishedAt: string;
  asOf: string;
  /** The run this one corrects or replaces (null for an original). */
  previousRunId: number | null;
  counts: { extracted: number; emitted: number; quarantined: number; unchanged: number; cancelled: number };
  /** Final state of this version's emitted records. */
  records: RecordStates;
  files: VersionFile[];
}

/**
 * What one receiver holds now: its live submissions' files (written, sent, received, accepted…), and
 * those it may hold (`mayHold`: cancelled after their GO and answered since, or rejected and accepted
 * since; nothing sent to it after).
 */
export interface ReceiverHolding {
  receiver: string;
  files: { name: string; runId: number; kind: string; state: string; records: number; mayHold?: true }[];
}

const emptyStates = (): RecordStates => ({ accepted: 0, acceptedWithAnomalies: 0, rejected: 0, pending: 0, cancelled: 0, answeredAfterCancel: 0, acceptedAfterReject: 0 });
const STATE_FIELD: Record<string, keyof RecordStates> = {
  accepted: 'accepted',
  accepted_with_anomalies: 'acceptedWithAnomalies',
  rejected: 'rejected',
  pending: 'pending',
  cancelled: 'cancelled',
  answered_after_cancel: 'answeredAfterCancel',
  accepted_after_reject: 'acceptedAfterReject',
};

const count = z.number().nullable();
const RunRow = z.object({
  run_id: ledgerId,
  kind: z.string(),
  reason: z.string().nullable(),
  started_by: z.string(),
  started_at: z.date(),
  finished_at: z.date(),
  as_of: z.date(),
  previous_run_id: ledgerId.nullable(),
  extracted: count,
  emitted: count,
  quarantined: count,
  unchanged: count,
  cancelled: count,
});
const FileRow = z.object({
  run_id: ledgerId,
  name: z.string(),
  receiver: z.string(),
  records: z.number(),
  bytes: ledgerId,
  sha256: z.string(),
  sequence: z.string(),
  submission_id: ledgerId,
  kind: z.string(),
  state: z.string(),
  ack_state: z.string().nullable(),
  noti_state: z.string().nullable(),
  sent_at: z.date().nullable(),
  answered_after_cancel: z.boolean(),
});
// A row of the versions' counts: a group of lineage rows (outcome set) or a number of records in a state (state set).
const CountRow = z.object({
  run_id: ledgerId,
  state: z.string().nullable(),
  outcome: z.string().nullable(),
  rule: z.string().nullable(),
  file_key: z.string().nullable(),
  cancelling: z.boolean().nullable(),
  n: z.number(),
});

/**
 * The counts of the runs `$1` (bigint[]) in one statement that reads each run's lineage once (it
 * may hold millions of rows, decisions 0302-0304): its rows grouped by run_id, outcome, rule,
 * file_key and cancelling (state NULL), then the records' states (state, n; the rest NULL),
 * derived from the emitted groups per file rather than from a second scan. An emitted row of
 * status 1 cancels a record a receiver holds (migration 007): the run's `cancelled`.
 */
export const VERSION_COUNTS_SQL = `
  WITH lineage AS MATERIALIZED (
    SELECT run_id, outcome, rule, file_key, status = 1 AS cancelling, count(*) AS n
    FROM maillon.record_outcomes WHERE run_id = ANY($1::bigint[]) GROUP BY run_id, outcome, rule, file_key, status = 1
  )
  SELECT run_id, NULL AS state, outcome, rule, file_key, cancelling, n::int AS n FROM lineage
  UNION ALL
  SELECT run_id, state, NULL, NULL, NULL, NULL, n FROM (${recordStateCountsSql(
    '= ANY($1::bigint[])',
    `SELECT run_id, file_key, sum(n)::bigint AS n FROM lineage WHERE outcome = 'emitted' GROUP BY run_id, file_key`,
  )}) s`;

/** The versions of a period, and each one's lineage counts by run id. */
export interface VersionsRead {
  versions: PeriodVersion[];
  lineage: ReadonlyMap<number, LineageCounts>;
}

/**
 * Every version of a flow's period in an environment (successful non-dry runs), oldest first, and
 * their lineage counts, in three statements that read each version's lineage once.
 */
export async function readVersions(ledger: Pool, flow: string, period: string, environment: Environment): Promise<VersionsRead> {
  const runs = await queryRows(
    ledger,
    `SELECT run_id, kind, reason, started_by, started_at, finished_at, as_of, previous_run_id, extracted, emitted, quarantined, unchanged, cancelled
     FROM maillon.runs WHERE flow = $1 AND period = $2 AND environment = $3 AND NOT dry_run AND state = 'succeeded' ORDER BY run_id`,
    [flow, period, environment],
    RunRow,
  );
  if (runs.length === 0) return { versions: [], lineage: new Map() };
  const ids = runs.map((r) => r.run_id);
  const [files, counts] = await Promise.all([
    queryRows(
      ledger,
      `SELECT f.run_id, f.name, f.receiver, f.records, f.bytes, f.sha256, s.sequence, s.submission_id, s.kind, s.state, f.ack_state, f.noti_state, s.sent_at,
              s.answered_after_cancel_at IS NOT NULL AS answered_after_cancel
       FROM maillon.files f JOIN maillon.submissions s USING (submission_id)
       WHERE f.run_id = ANY($1::bigint[]) ORDER BY f.run_id, f.name`,
      [ids],
      FileRow,
    ),
    queryRows(ledger, VERSION_COUNTS_SQL, [ids], CountRow),
  ]);
  const lineage = new Map<number, LineageCounts>(ids.map((id) => [id, emptyLineage()]));
  for (const c of counts) {
    if (c.outcome !== null) addLineageGroup(lineage.get(c.run_id)!, { outcome: c.outcome, rule: c.rule, fileKey: c.file_key, cancelling: c.cancelling ?? false, n: c.n });
  }
  const versions = runs.map((r): PeriodVersion => {
    const runId = r.run_id;
    const records = emptyStates();
    for (const s of counts) {
      const field = s.state === null ? undefined : STATE_FIELD[s.state];
      if (s.run_id === runId && field) records[field] += s.n;
    }
    return {
      runId,
      kind: r.kind,
      reason: r.reason,
      startedBy: r.started_by,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at.toISOString(),
      asOf: r.as_of.toISOString(),
      previousRunId: r.previous_run_id,
      counts: {
        extracted: r.extracted ?? 0,
        emitted: r.emitted ?? 0,
        quarantined: r.quarantined ?? 0,
        unchanged: r.unchanged ?? 0,
        cancelled: r.cancelled ?? 0,
      },
      records,
      files: files
        .filter((f) => f.run_id === runId)
        .map((f) => ({
          name: f.name,
          receiver: f.receiver,
          records: f.records,
          bytes: f.bytes,
          sha256: f.sha256,
          sequence: f.sequence,
          submissionId: f.submission_id,
          submissionKind: f.kind,
          state: f.state,
          ack: f.ack_state,
          noti: f.noti_state,
          sentAt: f.sent_at ? f.sent_at.toISOString() : null,
          answeredAfterCancel: f.answered_after_cancel,
        })),
    };
  });
  return { versions, lineage };
}

/**
 * What each receiver holds now, from the versions: the files of its live submissions and of those
 * it may hold (`mayHold` of the period's submissions, as the period view reads them), oldest first.
 */
export function holdings(versions: readonly PeriodVersion[], submissions: readonly { id: number; mayHold?: boolean }[]): ReceiverHolding[] {
  const maybe = new Set(mayHold(submissions).map((s) => s.id));
  const by = new Map<string, ReceiverHolding>();
  for (const v of versions) {
    for (const f of v.files) {
      const h = by.get(f.receiver) ?? { receiver: f.receiver, files: [] };
      by.set(f.receiver, h);
      const file = { name: f.name, runId: v.runId, kind: f.submissionKind, state: f.state, records: f.records };
      if (isLive(f.state)) h.files.push(file);
      else if (maybe.has(f.submissionId)) h.files.push({ ...file, mayHold: true });
    }
  }
  return [...by.values()].sort((a, b) => a.receiver.localeCompare(b.receiver));
}

/** Records of every version still without a final state (their file not answered yet). */
export function pendingRecords(versions: readonly PeriodVersion[]): number {
  return versions.reduce((n, v) => n + v.records.pending, 0);
}

/** Records of every version in a submission cancelled after its GO that its receiver answered and may hold. */
export function answeredAfterCancelRecords(versions: readonly PeriodVersion[]): number {
  return versions.reduce((n, v) => n + v.records.answeredAfterCancel, 0);
}

/** Records of every version in a rejected file whose receiver accepted its submission in a later reply and may hold it. */
export function acceptedAfterRejectRecords(versions: readonly PeriodVersion[]): number {
  return versions.reduce((n, v) => n + v.records.acceptedAfterReject, 0);
}
