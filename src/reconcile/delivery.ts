import { z } from 'zod';
import { aboutWholeFileSql } from '../ack/anomalyStage.js';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { mayHoldSql } from '../ledger/mayHold.js';

/** Where a file stands on the channel. */
export interface FileDelivery {
  name: string;
  /** Submission state: written, sent, received, rejected, accepted, accepted_with_anomalies, cancelled. */
  state: string;
  ack: string | null;
  ackErrors: string[];
  noti: string | null;
  sentAt: string | null;
  /** Sent, no ACRF yet, and the configured delay has passed. */
  overdue: boolean;
}

/** Final state of the emitted records, as the receivers' replies say. */
export interface RecordStates {
  accepted: number;
  acceptedWithAnomalies: number;
  rejected: number;
  /** No NOTI yet (not sent, or waiting). */
  pending: number;
  /** In a submission that was cancelled: the receiver does not hold them. */
  cancelled: number;
  /**
   * In a submission cancelled after its GO that the receiver answered since (it took the GO before
   * the TD), nothing sent to that receiver after it: the receiver may hold them. Not a final state.
   */
  answeredAfterCancel: number;
  /**
   * In a rejected file of a submission the receiver accepted in a later reply (a positive ACRF or
   * NOTI after a negative one), nothing sent to that receiver after it: the receiver may hold them.
   * Not a final state; counted here instead of `rejected`.
   */
  acceptedAfterReject: number;
}

/** An emitted record the receiver did not simply accept. */
export interface RecordIssue {
  sourceKey: string;
  file: string;
  state: 'rejected' | 'accepted_with_anomalies';
  /**
   * Its anomalies' codes, then, when its file is rejected, the file's (ACRF error ids, then the NOTI's
   * anomalies about the whole file, or, when it gave none, those naming a record the file does not
   * hold); comma-separated, '' when none.
   */
  codes: string;
}

/**
 * An anomaly of a reply that matched no record of the run: about its whole file (it names no
 * record), or naming a record the file does not hold (an INSS not sent in it, or an AttestationID
 * the file does not have for that INSS).
 */
export interface UnmatchedAnomaly {
  file: string;
  reply: string;
  code: string;
  blocking: boolean;
  /** The INSS it names, masked; null when it names none. */
  inss: string | null;
  attestationId: string | null;
}

/** The delivery part of a report. */
export interface Delivery {
  files: FileDelivery[];
  records: RecordStates;
  recordIssues: RecordIssue[];
  /** Anomalies of the replies that name no record of the run. */
  unmatchedAnomalies: number;
  /** Those anomalies, each with its file and reply (the report reads it with readReportLists, which streams). */
  unmatchedAnomalyList: UnmatchedAnomaly[];
}

// A record's final state: its submission cancelled → cancelled, unless its receiver may hold it
// (mayHoldSql, the period view's rule: answered after the cancel) → answered after cancel, which is
// not final; its file rejected → rejected, unless its receiver may hold the submission (mayHoldSql:
// accepted in a later reply) → accepted after reject, not final either; a blocking anomaly →
// rejected; a non-blocking anomaly → accepted with anomalies; its file's NOTI accepting it →
// accepted; otherwise pending. The statements below derive it without visiting every record
// with a probe of its anomalies: a file's state decides for all its records, and only the records
// named by an anomaly (and those of a rejected file, which are listed) are read one by one.
const fileRejected = (f: string): string => `(${f}.ack_state IS NOT DISTINCT FROM 'rejected' OR ${f}.noti_state IS NOT DISTINCT FROM 'rejected')`;
const FILE_REJECTED = fileRejected('f');

/** The emitted records of the runs `o.run_id <runs>` selects, counted per file in one grouped scan of their lineage: run_id, file_key, n (bigint). */
const emittedPerFileSql = (runs: string): string => `
    SELECT o.run_id, o.file_key, count(*) AS n FROM maillon.record_outcomes o
    WHERE o.run_id ${runs} AND o.outcome = 'emitted' GROUP BY o.run_id, o.file_key`;

/**
 * The number of emitted records in each final state, per run, for the runs `o.run_id <runs>`
 * selects (`= $1`, `= ANY($1::bigint[])`): the emitted records counted per file (`emitted`: a
 * statement giving run_id, file_key, n for those runs; by default its own grouped scan of their
 * lineage), less those that anomalies name, counted from the anomalies. Columns run_id, state, n.
 */
export const recordStateCountsSql = (runs: string, emitted = emittedPerFileSql(runs)): string => `
  WITH emitted AS (${emitted}
  ), flagged AS (
    SELECT o.run_id, o.file_key, bool_or(ra.blocking) AS blocking
    FROM maillon.record_anomalies ra JOIN maillon.record_outcomes o ON o.run_id = ra.run_id AND o.ordinal = ra.ordinal
    WHERE ra.run_id ${runs} AND o.outcome = 'emitted' GROUP BY o.run_id, o.file_key, ra.ordinal
  ), per_file AS (
    SELECT run_id, file_key, count(*) FILTER (WHERE blocking) AS blocked, count(*) FILTER (WHERE NOT blocking) AS warned
    FROM flagged GROUP BY run_id, file_key
  ), files AS (
    SELECT e.run_id, e.n, s.state = 'cancelled' AS cancelled, ${mayHoldSql('s')} AS may_hold, ${FILE_REJECTED} AS rejected, f.noti_state IS NOT NULL AS notified,
           coalesce(p.blocked, 0) AS blocked, coalesce(p.warned, 0) AS warned
    FROM emitted e
    JOIN maillon.files f ON f.run_id = e.run_id AND f.file_key = e.file_key
    JOIN maillon.submissions s ON s.submission_id = f.submission_id
    LEFT JOIN per_file p ON p.run_id = e.run_id AND p.file_key = e.file_key
  )
  SELECT run_id, x.state, sum(x.n)::int AS n
  FROM files CROSS JOIN LATERAL (VALUES
    ('cancelled', CASE WHEN cancelled AND NOT may_hold THEN n ELSE 0 END),
    ('answered_after_cancel', CASE WHEN cancelled AND may_hold THEN n ELSE 0 END),
    ('accepted_after_reject', CASE WHEN NOT cancelled AND rejected AND may_hold THEN n ELSE 0 END),
    ('rejected', CASE WHEN cancelled OR (rejected AND may_hold) THEN 0 WHEN rejected THEN n ELSE blocked END),
    ('accepted_with_anomalies', CASE WHEN cancelled OR rejected OR NOT notified THEN 0 ELSE warned END),
    ('accepted', CASE WHEN cancelled OR rejected OR NOT notified THEN 0 ELSE n - blocked - warned END),
    ('pending', CASE WHEN cancelled OR rejected OR notified THEN 0 ELSE n - blocked END)
  ) x(state, n)
  GROUP BY run_id, x.state HAVING sum(x.n) > 0`;

/**
 * The emitted records of one run that the receivers did not simply accept (source_key, name,
 * state, codes): every record of a rejected file, and the records of the other files that an
 * anomaly names (rejected when one blocks, else accepted with anomalies once the NOTI is there).
 * A record of a rejected file carries its own anomalies' codes, then its file's: the ACRF's error
 * ids and the codes of the NOTI's anomalies about the whole file (aboutWholeFileSql); when the NOTI
 * gave none, the codes of its anomalies naming a record the file does not hold, the only reasons it
 * gave (else each record of the file was listed rejected with no code). So a record rejected with
 * its file always shows why, even when it has a warning of its own. The records of a rejected file
 * are listed rejected, with the rejection's codes, also when the receiver accepted the file in a later
 * reply (their counts say accepted after reject: the receiver may hold them).
 */
export const recordIssuesSql = (runId: number): string => {
  const run = Math.trunc(runId);
  // The run's rejected files, not cancelled, with their codes, each worked out once: their records
  // are read in one scan of the run's lineage (a join from the files could rescan the run once per
  // file), and not at all when there are none (a one-time filter).
  return `
  WITH rejected AS MATERIALIZED (
    SELECT rf.file_key, rf.name, nullif(concat_ws(',', nullif(array_to_string(rf.ack_errors, ','), ''), (
      SELECT CASE WHEN bool_or(x.whole) THEN string_agg(x.code, ',' ORDER BY x.code) FILTER (WHERE x.whole) ELSE string_agg(x.code, ',' ORDER BY x.code) END
      FROM (SELECT ra.code, ${aboutWholeFileSql('ra')} AS whole FROM maillon.record_anomalies ra WHERE ra.run_id = rf.run_id AND ra.ordinal IS NULL AND ra.file_id = rf.file_id) x
    )), '') AS codes
    FROM maillon.files rf JOIN maillon.submissions rs ON rs.submission_id = rf.submission_id
    WHERE rf.run_id = ${run} AND rs.state <> 'cancelled' AND ${fileRejected('rf')}
  )
  SELECT o.source_key, f.name, 'rejected' AS state, concat_ws(',', a.codes, f.codes) AS codes
  FROM maillon.record_outcomes o
  -- OFFSET 0 keeps the file's lookup a probe of the few rejected files per record (pulled up into a
  -- join, the planner may read the run's lineage once per file).
  CROSS JOIN LATERAL (SELECT r.name, r.codes FROM rejected r WHERE r.file_key = o.file_key OFFSET 0) f
  LEFT JOIN LATERAL (
    SELECT string_agg(ra.code, ',' ORDER BY ra.code) AS codes FROM maillon.record_anomalies ra WHERE ra.run_id = o.run_id AND ra.ordinal = o.ordinal
  ) a ON true
  WHERE o.run_id = ${run} AND o.outcome = 'emitted' AND o.file_key = ANY (ARRAY(SELECT file_key FROM rejected)) AND EXISTS (SELECT FROM rejected)
  UNION ALL
  SELECT o.source_key, f.name, CASE WHEN a.blocking THEN 'rejected' ELSE 'accepted_with_anomalies' END, a.codes
  FROM (
    SELECT ra.run_id, ra.ordinal, bool_or(ra.blocking) AS blocking, string_agg(ra.code, ',' ORDER BY ra.code) AS codes
    FROM maillon.record_anomalies ra WHERE ra.run_id = ${run} AND ra.ordinal IS NOT NULL GROUP BY ra.run_id, ra.ordinal
  ) a
  JOIN maillon.record_outcomes o ON o.run_id = a.run_id AND o.ordinal = a.ordinal AND o.outcome = 'emitted'
  JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
  JOIN maillon.submissions s ON s.submission_id = f.submission_id
  WHERE s.state <> 'cancelled' AND NOT ${FILE_REJECTED} AND (a.blocking OR f.noti_state IS NOT NULL)`;
};

const FileRow = z.object({
  name: z.string(),
  state: z.string(),
  ack_state: z.string().nullable(),
  ack_errors: z.array(z.string()),
  noti_state: z.string().nullable(),
  sent_at: z.date().nullable(),
  overdue: z.boolean().nullable(),
});
const StateCount = z.object({ state: z.string(), n: z.number() });
const Count = z.object({ n: z.number() });

/**
 * Reads the delivery states of a run's files and the counts of its records from the ledger;
 * `recordIssues` and `unmatchedAnomalyList` are left empty: the report reads them with
 * readReportLists, which streams.
 */
export async function readDelivery(ledger: Pool, runId: number, now: Date, ackDelayHours: number, known?: RecordStates): Promise<Delivery> {
  const [files, counts, unmatched] = await Promise.all([
    queryRows(
      ledger,
      `SELECT f.name, s.state, f.ack_state, coalesce(f.ack_errors, '{}') AS ack_errors, f.noti_state, s.sent_at,
              (s.state = 'sent' AND f.ack_state IS NULL AND s.sent_at < $2::timestamptz - make_interval(hours => $3)) AS overdue
       FROM maillon.files f JOIN maillon.submissions s USING (submission_id) WHERE f.run_id = $1 ORDER BY f.name`,
      [runId, now, ackDelayHours],
      FileRow,
    ),
    // The counts, unless the caller read them already (the report's versions count every run's).
    known ? [] : queryRows(ledger, recordStateCountsSql('= $1'), [runId], StateCount),
    queryRows(ledger, `SELECT count(*)::int AS n FROM maillon.record_anomalies WHERE run_id = $1 AND ordinal IS NULL`, [runId], Count),
  ]);
  const n = (state: string): number => counts.find((c) => c.state === state)?.n ?? 0;
  return {
    files: files.map((f) => ({
      name: f.name,
      state: f.state,
      ack: f.ack_state,
      ackErrors: f.ack_errors,
      noti: f.noti_state,
      sentAt: f.sent_at ? f.sent_at.toISOString() : null,
      overdue: f.overdue ?? false,
    })),
    records: known ?? {
      accepted: n('accepted'),
      acceptedWithAnomalies: n('accepted_with_anomalies'),
      rejected: n('rejected'),
      pending: n('pending'),
      cancelled: n('cancelled'),
      answeredAfterCancel: n('answered_after_cancel'),
      acceptedAfterReject: n('accepted_after_reject'),
    },
    recordIssues: [],
    unmatchedAnomalies: unmatched[0]?.n ?? 0,
    unmatchedAnomalyList: [],
  };
}

/**
 * The anomalies of one run's replies that matched no record (UnmatchedAnomaly), in the order they
 * were read, as a report list's `FROM`: the INSS masked as maskInss does (11 digits: the first two
 * and the last two), so that the report holds no full INSS.
 */
export const unmatchedAnomaliesFromSql = (runId: number): string => `FROM (
    SELECT f.name AS file, p.name AS reply, a.code, a.blocking,
           CASE WHEN length(a.inss) < 5 THEN repeat('*', length(a.inss))
                ELSE left(a.inss, 2) || repeat('*', length(a.inss) - 4) || right(a.inss, 2) END AS inss,
           a.attestation_id, a.anomaly_id
    FROM maillon.record_anomalies a JOIN maillon.files f ON f.file_id = a.file_id JOIN maillon.replies p ON p.reply_id = a.reply_id
    WHERE a.run_id = ${Math.trunc(runId)} AND a.ordinal IS NULL
  ) u`;

/** An unmatched anomaly's CSV detail: its reply, whether it blocks, and what it names (UNMATCHED_DETAIL_SQL writes the same). */
export function unmatchedDetail(a: UnmatchedAnomaly): string {
  const names =
    a.inss === null && a.attestationId === null ? '; about the whole file' : `${a.inss === null ? '' : `; INSS ${a.inss}`}${a.attestationId === null ? '' : `; AttestationID ${a.attestationId}`}`;
  return `${a.reply}; ${a.blocking ? 'blocking' : 'not blocking'}${names}`;
}

/** unmatchedDetail in SQL, on the columns of unmatchedAnomaliesFromSql. */
export const UNMATCHED_DETAIL_SQL = `reply || '; ' || CASE WHEN blocking THEN 'blocking' ELSE 'not blocking' END
  || CASE WHEN inss IS NULL AND attestation_id IS NULL THEN '; about the whole file' ELSE coalesce('; INSS ' || inss, '') || coalesce('; AttestationID ' || attestation_id, '') END`;
