import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { aboutWholeFileSql } from '../ack/anomalyStage.js';
import { queryRows } from '../db/queryRows.js';
import { UsageError } from '../errors/errors.js';
import { mayHoldSql } from '../ledger/mayHold.js';
import { environmentColumn, ledgerId } from '../ledger/rowSchemas.js';

/** A reply of a receiver about the file that carried the record, with what it said about this record. */
export interface TraceReply {
  name: string;
  /** ACRF or NOTI (null for a reply that could not be read). */
  kind: string | null;
  /** processed, set_aside or conflict. */
  state: string;
  receivedAt: string;
}

/** An anomaly a NOTI reported about this very record. */
export interface TraceAnomaly {
  reply: string;
  code: string;
  blocking: boolean;
  description: string | null;
  /**
   * The INSS the anomaly gives when it is not the record's: it named the record by its AttestationID
   * and gave another number (the person's current INSS after a BIS number, or a mistake). Masked
   * unless unmasked; absent when it gives the record's INSS or none.
   */
  otherInss?: string;
}

/** An anomaly of a NOTI that rejected the record's file, naming a record the file does not hold (an INSS not sent in it, or an AttestationID it does not have). */
export interface TraceUnmatchedAnomaly extends TraceAnomaly {
  /** The INSS it names (masked unless unmasked), or null. */
  inss: string | null;
  attestationId: string | null;
}

/** Each time the record was extracted by a run: what became of it. */
export interface TraceEntry {
  runId: number;
  flow: string;
  period: string;
  environment: string;
  /** original, correction or full-replacement. */
  runKind: string;
  runReason: string | null;
  startedBy: string;
  startedAt: string;
  sourceKey: string;
  /** The record's key in the file (the INSS for person records), masked unless unmasked. */
  recordKey: string | null;
  outcome: 'emitted' | 'quarantined' | 'unchanged';
  /** Quarantined: the rule and why. */
  rule: string | null;
  message: string | null;
  /** Emitted: where it is (file, position, bytes of its content in the file), its identification and status. */
  file: string | null;
  position: number | null;
  byteRange: { offset: number; bytes: number } | null;
  attestationId: string | null;
  /** original, cancellation or replacement (the record's status in its file). */
  status: 'original' | 'cancellation' | 'replacement';
  submissionId: number | null;
  submissionState: string | null;
  ack: string | null;
  /** The error ids of the file's ACRF (a negative one says why it rejected the file). */
  ackErrors: string[];
  noti: string | null;
  replies: TraceReply[];
  anomalies: TraceAnomaly[];
  /** The anomalies a NOTI reported about the record's whole file (naming no record): a NOTI that rejects the file says why here. */
  fileAnomalies: TraceAnomaly[];
  /**
   * When the record's file was rejected: the anomalies of its NOTI that name a record the file does
   * not hold. A NOTI that rejects the file may give only these: they are then its reasons.
   */
  unmatchedAnomalies: TraceUnmatchedAnomaly[];
  /** accepted, accepted_with_anomalies, rejected, pending, cancelled (emitted); quarantined; unchanged. */
  finalState: string;
  /**
   * The receiver may hold the record's submission although its state says cancelled or rejected
   * (it answered after the cancel, or accepted in a later reply what it had rejected) and nothing
   * was written to it for the period since: the same rule as status and the report (src/ledger/mayHold.ts).
   */
  receiverMayHold: boolean;
}

/** A record's whole trail in the ledger. */
export interface Trace {
  /** What was asked: a dossier key, or an INSS (masked unless unmasked). */
  query: { kind: 'key' | 'inss'; value: string };
  entries: TraceEntry[];
}

const STATUS = ['original', 'cancellation', 'replacement'] as const;

/** BIGINT columns kept as text (attestation ids may exceed 2^53) or read as numbers. */
const OutcomeRow = z.object({
  run_id: ledgerId,
  ordinal: z.number(),
  source_key: z.string(),
  record_key: z.string().nullable(),
  outcome: z.enum(['emitted', 'quarantined', 'unchanged']),
  rule: z.string().nullable(),
  message: z.string().nullable(),
  position: z.number().nullable(),
  content_offset: ledgerId.nullable(),
  content_bytes: z.number().nullable(),
  attestation_id: z.string().nullable(),
  status: z.number(),
  flow: z.string(),
  period: z.string(),
  environment: environmentColumn,
  run_kind: z.string(),
  reason: z.string().nullable(),
  started_by: z.string(),
  started_at: z.date(),
  file_id: ledgerId.nullable(),
  file: z.string().nullable(),
  ack_state: z.string().nullable(),
  ack_errors: z.array(z.string()).nullable(),
  noti_state: z.string().nullable(),
  submission_id: ledgerId.nullable(),
  submission_state: z.string().nullable(),
  may_hold: z.boolean(),
});
const AnomalyRow = z.object({
  run_id: ledgerId,
  ordinal: z.number().nullable(),
  code: z.string(),
  blocking: z.boolean(),
  description: z.string().nullable(),
  reply: z.string(),
  inss: z.string().nullable(),
});
const FileAnomalyRow = z.object({ file_id: ledgerId, code: z.string(), blocking: z.boolean(), description: z.string().nullable(), reply: z.string() });
const UnmatchedRow = FileAnomalyRow.extend({ inss: z.string().nullable(), attestation_id: z.string().nullable() });
const ReplyRow = z.object({ file_name: z.string().nullable(), name: z.string(), kind: z.string().nullable(), state: z.string(), received_at: z.date() });

// Any key the import takes (at most 2,600 bytes) with the prefix a flow adds to it (`contribution:`).
const MAX_QUERY_BYTES = 4096;

/** A query is an INSS when it is 11 digits (dots, dashes and spaces aside), otherwise a dossier key. */
export function parseTraceQuery(text: string): Trace['query'] {
  const value = text.trim();
  if (value.length === 0 || Buffer.byteLength(value) > MAX_QUERY_BYTES) {
    throw new UsageError(`maillon trace takes a dossier key (affiliate_id, allowance id…) of at most ${MAX_QUERY_BYTES} bytes or an INSS of 11 digits.`);
  }
  const digits = value.replace(/[\s.-]/g, '');
  return /^\d{11}$/.test(digits) ? { kind: 'inss', value: digits } : { kind: 'key', value };
}

/**
 * Every extraction of a record, oldest run first: by its dossier key (record_outcomes.source_key),
 * or by an INSS (record_key, and the dossier keys of the affiliates with that INSS, for records
 * quarantined before they had one). Five statements, each on an index (migrations 004 and 080).
 */
export async function readTrace(ledger: Pool, query: Trace['query'], dossierKeys: readonly string[] = []): Promise<TraceEntry[]> {
  const where = query.kind === 'key' ? 'o.source_key = $1' : '(o.record_key = $1 OR o.source_key = ANY($2::text[]))';
  const params = query.kind === 'key' ? [query.value] : [query.value, [...dossierKeys]];
  const rows = await queryRows(
    ledger,
    `SELECT o.run_id, o.ordinal, o.source_key, o.record_key, o.outcome, o.rule, o.message, o.position, o.content_offset, o.content_bytes,
            o.attestation_id, o.status, r.flow, r.period, r.environment, r.kind AS run_kind, r.reason, r.started_by, r.started_at,
            f.file_id, f.name AS file, f.ack_state, f.ack_errors, f.noti_state, s.submission_id, s.state AS submission_state,
            (s.submission_id IS NOT NULL AND ${mayHoldSql('s')}) AS may_hold
     FROM maillon.record_outcomes o
     JOIN maillon.runs r ON r.run_id = o.run_id
     LEFT JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
     LEFT JOIN maillon.submissions s ON s.submission_id = f.submission_id
     WHERE ${where} AND NOT r.dry_run AND r.state = 'succeeded'
     ORDER BY o.run_id, o.ordinal LIMIT 10000`,
    params,
    OutcomeRow,
  );
  if (rows.length === 0) return [];
  const runs = rows.map((r) => String(r.run_id));
  const ordinals = rows.map((r) => r.ordinal);
  const files = [...new Set(rows.flatMap((r) => (r.file ? [r.file] : [])))];
  const fileIds = [...new Set(rows.flatMap((r) => (r.file_id === null ? [] : [String(r.file_id)])))];
  const rejectedFileIds = [...new Set(rows.flatMap((r) => (r.file_id !== null && (r.noti_state === 'rejected' || r.ack_state === 'rejected') ? [String(r.file_id)] : [])))];
  const [anomalies, fileAnomalies, unmatched, replies] = await Promise.all([
    queryRows(
      ledger,
      `SELECT a.run_id, a.ordinal, a.code, a.blocking, a.description, p.name AS reply, a.inss
       FROM unnest($1::bigint[], $2::int[]) AS k (run_id, ordinal)
       JOIN maillon.record_anomalies a ON a.run_id = k.run_id AND a.ordinal = k.ordinal
       JOIN maillon.replies p ON p.reply_id = a.reply_id ORDER BY a.anomaly_id`,
      [runs, ordinals],
      AnomalyRow,
    ),
    queryRows(
      ledger,
      `SELECT a.file_id, a.code, a.blocking, a.description, p.name AS reply
       FROM maillon.record_anomalies a JOIN maillon.replies p ON p.reply_id = a.reply_id
       WHERE a.run_id = ANY($1::bigint[]) AND ${aboutWholeFileSql('a')} AND a.file_id = ANY($2::bigint[]) ORDER BY a.anomaly_id`,
      [[...new Set(runs)], fileIds],
      FileAnomalyRow,
    ),
    rejectedFileIds.length === 0
      ? []
      : queryRows(
          ledger,
          `SELECT a.file_id, a.code, a.blocking, a.description, p.name AS reply, a.inss, a.attestation_id
           FROM maillon.record_anomalies a JOIN maillon.replies p ON p.reply_id = a.reply_id
           WHERE a.run_id = ANY($1::bigint[]) AND a.ordinal IS NULL AND NOT ${aboutWholeFileSql('a')} AND a.file_id = ANY($2::bigint[]) ORDER BY a.anomaly_id`,
          [[...new Set(runs)], rejectedFileIds],
          UnmatchedRow,
        ),
    queryRows(ledger, `SELECT file_name, name, kind, state, received_at FROM maillon.replies WHERE file_name = ANY($1::text[]) ORDER BY received_at, reply_id`, [files], ReplyRow),
  ]);
  return rows.map((r) => {
    const mine = anomalies.filter((a) => a.run_id === r.run_id && a.ordinal === r.ordinal);
    const entry: TraceEntry = {
      runId: r.run_id,
      flow: r.flow,
      period: r.period,
      environment: r.environment,
      runKind: r.run_kind,
      runReason: r.reason,
      startedBy: r.started_by,
      startedAt: r.started_at.toISOString(),
      sourceKey: r.source_key,
      recordKey: r.record_key,
      outcome: r.outcome,
      rule: r.rule,
      message: r.message,
      file: r.file,
      position: r.position,
      byteRange: r.content_offset === null ? null : { offset: r.content_offset, bytes: r.content_bytes ?? 0 },
      attestationId: r.attestation_id,
      status: STATUS[r.status] ?? 'original',
      submissionId: r.submission_id,
      submissionState: r.submission_state,
      ack: r.ack_state,
      ackErrors: r.ack_errors ?? [],
      noti: r.noti_state,
      replies: replies.filter((p) => p.file_name === r.file).map((p) => ({ name: p.name, kind: p.kind, state: p.state, receivedAt: p.received_at.toISOString() })),
      anomalies: mine.map((a) => ({
        reply: a.reply,
        code: a.code,
        blocking: a.blocking,
        description: a.description,
        ...(a.inss !== null && a.inss !== r.record_key ? { otherInss: a.inss } : {}),
      })),
      fileAnomalies: fileAnomalies.filter((a) => a.file_id === r.file_id).map((a) => ({ reply: a.reply, code: a.code, blocking: a.blocking, description: a.description })),
      unmatchedAnomalies: unmatched
        .filter((a) => a.file_id === r.file_id)
        .map((a) => ({ reply: a.reply, code: a.code, blocking: a.blocking, description: a.description, inss: a.inss, attestationId: a.attestation_id })),
      finalState: 'pending',
      receiverMayHold: r.may_hold,
    };
    entry.finalState = finalState(entry);
    return entry;
  });
}

/** The same rule as the report's (src/reconcile/delivery.ts): cancelled, rejected, with anomalies, accepted, pending. */
function finalState(e: TraceEntry): string {
  if (e.outcome !== 'emitted') return e.outcome;
  if (e.submissionState === 'cancelled') return 'cancelled';
  if (e.ack === 'rejected' || e.noti === 'rejected' || e.anomalies.some((a) => a.blocking)) return 'rejected';
  if (e.noti !== null) return e.anomalies.length > 0 ? 'accepted_with_anomalies' : 'accepted';
  return 'pending';
}
