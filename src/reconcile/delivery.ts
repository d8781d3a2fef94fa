import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';

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
  /** The anomaly codes, or the ACRF's errors; null when a NOTI rejected the file without naming any. */
  codes: string | null;
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
const RECORD_STATE = `
  SELECT o.source_key, f.name,
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
  WHERE o.run_id = $1 AND o.outcome = 'emitted'`;

const FileRow = z.object({
  name: z.string(), state: z.string(), ack_state: z.string().nullable(), ack_errors: z.array(z.string()), noti_state: z.string().nullable(), sent_at: z.date().nullable(), overdue: z.boolean().nullable(),
});
const CountRow = z.object({ state: z.string(), n: z.number() });
const IssueRow = z.object({ sourceKey: z.string(), file: z.string(), state: z.enum(['rejected', 'accepted_with_anomalies']), codes: z.string().nullable() });
const UnmatchedRow = z.object({ n: z.number() });

/** Reads the delivery states of a run's files and records from the ledger. */
export async function readDelivery(ledger: Pool, runId: number, now: Date, ackDelayHours: number): Promise<Delivery> {
  const [files, counts, issues, unmatched] = await Promise.all([
    queryRows(
      ledger,
      `SELECT f.name, s.state, f.ack_state, coalesce(f.ack_errors, '{}') AS ack_errors, f.noti_state, s.sent_at,
              (s.state = 'sent' AND f.ack_state IS NULL AND s.sent_at < $2::timestamptz - make_interval(hours => $3)) AS overdue
       FROM maillon.files f JOIN maillon.submissions s USING (submission_id) WHERE f.run_id = $1 ORDER BY f.name`,
      [runId, now, ackDelayHours],
      FileRow,
    ),
    queryRows(ledger, `SELECT state, count(*)::int AS n FROM (${RECORD_STATE}) r GROUP BY state`, [runId], CountRow),
    queryRows(
      ledger,
      `SELECT source_key AS "sourceKey", name AS file, state, codes FROM (${RECORD_STATE}) r
       WHERE state IN ('rejected', 'accepted_with_anomalies') ORDER BY source_key COLLATE "C"`,
      [runId],
      IssueRow,
    ),
    queryRows(ledger, `SELECT count(*)::int AS n FROM maillon.record_anomalies WHERE run_id = $1 AND ordinal IS NULL`, [runId], UnmatchedRow),
  ]);
  const n = (state: string): number => counts.find((c) => c.state === state)?.n ?? 0;
  return {
    files: files.map((f) => ({
      name: f.name, state: f.state, ack: f.ack_state, ackErrors: f.ack_errors, noti: f.noti_state,
      sentAt: f.sent_at ? f.sent_at.toISOString() : null, overdue: Boolean(f.overdue),
    })),
    records: { accepted: n('accepted'), acceptedWithAnomalies: n('accepted_with_anomalies'), rejected: n('rejected'), pending: n('pending'), cancelled: n('cancelled') },
    recordIssues: issues,
    unmatchedAnomalies: unmatched[0]?.n ?? 0,
  };
}
