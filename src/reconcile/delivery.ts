import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { extractRows } from '../extract/extractRows.js';

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
}

/** An emitted record the receiver did not simply accept. */
export interface RecordIssue {
  sourceKey: string;
  file: string;
  state: 'rejected' | 'accepted_with_anomalies';
  codes: string;
}

/** The delivery part of a report. */
export interface Delivery {
  files: FileDelivery[];
  records: RecordStates;
  recordIssues: RecordIssue[];
  /** Anomalies of the replies that name no record of the run. */
  unmatchedAnomalies: number;
}

// A record's final state: its submission cancelled → cancelled; its file rejected, or a blocking
// anomaly → rejected; a non-blocking anomaly → accepted with anomalies; its file's NOTI accepting
// it → accepted; otherwise pending.
export const recordStateSql = (where: string): string => `
  SELECT o.run_id, o.source_key, f.name,
         CASE WHEN s.state = 'cancelled' THEN 'cancelled'
              WHEN f.ack_state = 'rejected' OR f.noti_state = 'rejected' OR a.blocking THEN 'rejected'
              WHEN a.codes IS NOT NULL AND f.noti_state IS NOT NULL THEN 'accepted_with_anomalies'
              WHEN f.noti_state IS NOT NULL THEN 'accepted'
              ELSE 'pending' END AS state,
         coalesce(a.codes, array_to_string(f.ack_errors, ',')) AS codes
  FROM maillon.record_outcomes o
  JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
  JOIN maillon.submissions s ON s.submission_id = f.submission_id
  LEFT JOIN LATERAL (
    SELECT bool_or(ra.blocking) AS blocking, string_agg(ra.code, ',' ORDER BY ra.code) AS codes
    FROM maillon.record_anomalies ra WHERE ra.run_id = o.run_id AND ra.ordinal = o.ordinal
  ) a ON true
  WHERE ${where} AND o.outcome = 'emitted'`;
const RECORD_STATE = recordStateSql('o.run_id = $1');

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
 * `recordIssues` is left empty: read it with {@link recordIssueRows}, which streams.
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
    known ? [] : queryRows(ledger, `SELECT state, count(*)::int AS n FROM (${RECORD_STATE}) r GROUP BY state`, [runId], StateCount),
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
    records: known ?? { accepted: n('accepted'), acceptedWithAnomalies: n('accepted_with_anomalies'), rejected: n('rejected'), pending: n('pending'), cancelled: n('cancelled') },
    recordIssues: [],
    unmatchedAnomalies: unmatched[0]?.n ?? 0,
  };
}

/**
 * The run's records the receivers did not simply accept, in dossier-key order, streamed through
 * COPY (extractRows): nothing accumulates whatever their number. `limit` keeps the first ones.
 */
export function recordIssueRows(ledger: Pool, runId: number, limit?: number): AsyncIterable<RecordIssue> {
  const sql = `SELECT json_build_object('sourceKey', source_key, 'file', name, 'state', state, 'codes', codes)
    FROM (${recordStateSql(`o.run_id = ${Math.trunc(runId)}`)}) r
    WHERE state IN ('rejected', 'accepted_with_anomalies') ORDER BY source_key COLLATE "C"${limit === undefined ? '' : ` LIMIT ${Math.trunc(limit)}`}`;
  return { [Symbol.asyncIterator]: () => extractRows(ledger, sql) as AsyncGenerator<RecordIssue> };
}
