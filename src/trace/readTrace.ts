import type { Pool } from '../db/database.js';
import { UsageError } from '../errors/errors.js';

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
  noti: string | null;
  replies: TraceReply[];
  anomalies: TraceAnomaly[];
  /** accepted, accepted_with_anomalies, rejected, pending, cancelled (emitted); quarantined; unchanged. */
  finalState: string;
}

/** A record's whole trail in the ledger. */
export interface Trace {
  /** What was asked: a dossier key, or an INSS (masked unless unmasked). */
  query: { kind: 'key' | 'inss'; value: string };
  entries: TraceEntry[];
}

const STATUS = ['original', 'cancellation', 'replacement'] as const;

/** A query is an INSS when it is 11 digits (dots, dashes and spaces aside), otherwise a dossier key. */
export function parseTraceQuery(text: string): Trace['query'] {
  const value = text.trim();
  if (value.length === 0 || value.length > 200) throw new UsageError('maillon trace takes a dossier key (affiliate_id, allowance id…) or an INSS of 11 digits.');
  const digits = value.replace(/[\s.-]/g, '');
  return /^\d{11}$/.test(digits) ? { kind: 'inss', value: digits } : { kind: 'key', value };
}

/**
 * Every extraction of a record, oldest run first: by its dossier key (record_outcomes.source_key),
 * or by an INSS (record_key, and the dossier keys of the affiliates with that INSS, for records
 * quarantined before they had one). Three statements, each on an index of migration 080.
 */
export async function readTrace(ledger: Pool, query: Trace['query'], dossierKeys: readonly string[] = []): Promise<TraceEntry[]> {
  const where = query.kind === 'key' ? 'o.source_key = $1' : '(o.record_key = $1 OR o.source_key = ANY($2::text[]))';
  const params = query.kind === 'key' ? [query.value] : [query.value, [...dossierKeys]];
  const rows = await ledger.query(
    `SELECT o.run_id, o.ordinal, o.source_key, o.record_key, o.outcome, o.rule, o.message, o.position, o.content_offset, o.content_bytes,
            o.attestation_id, o.status, r.flow, r.period, r.environment, r.kind AS run_kind, r.reason, r.started_by, r.started_at,
            f.file_id, f.name AS file, f.ack_state, f.noti_state, s.submission_id, s.state AS submission_state
     FROM maillon.record_outcomes o
     JOIN maillon.runs r ON r.run_id = o.run_id
     LEFT JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
     LEFT JOIN maillon.submissions s ON s.submission_id = f.submission_id
     WHERE ${where} AND NOT r.dry_run AND r.state = 'succeeded'
     ORDER BY o.run_id, o.ordinal LIMIT 10000`,
    params,
  );
  if (rows.rows.length === 0) return [];
  const runs = rows.rows.map((r) => String(r.run_id));
  const ordinals = rows.rows.map((r) => Number(r.ordinal));
  const files = [...new Set(rows.rows.filter((r) => r.file).map((r) => String(r.file)))];
  const [anomalies, replies] = await Promise.all([
    ledger.query(
      `SELECT a.run_id, a.ordinal, a.code, a.blocking, a.description, p.name AS reply
       FROM unnest($1::bigint[], $2::int[]) AS k (run_id, ordinal)
       JOIN maillon.record_anomalies a ON a.run_id = k.run_id AND a.ordinal = k.ordinal
       JOIN maillon.replies p ON p.reply_id = a.reply_id ORDER BY a.anomaly_id`,
      [runs, ordinals],
    ),
    ledger.query(`SELECT file_name, name, kind, state, received_at FROM maillon.replies WHERE file_name = ANY($1::text[]) ORDER BY received_at, reply_id`, [files]),
  ]);
  return rows.rows.map((r) => {
    const mine = anomalies.rows.filter((a) => String(a.run_id) === String(r.run_id) && Number(a.ordinal) === Number(r.ordinal));
    const entry: TraceEntry = {
      runId: Number(r.run_id), flow: r.flow, period: r.period, environment: r.environment, runKind: r.run_kind, runReason: r.reason ?? null,
      startedBy: r.started_by, startedAt: (r.started_at as Date).toISOString(), sourceKey: r.source_key, recordKey: r.record_key ?? null,
      outcome: r.outcome, rule: r.rule ?? null, message: r.message ?? null, file: r.file ?? null, position: r.position ?? null,
      byteRange: r.content_offset === null ? null : { offset: Number(r.content_offset), bytes: Number(r.content_bytes) },
      attestationId: r.attestation_id === null ? null : String(r.attestation_id), status: STATUS[Number(r.status)] ?? 'original',
      submissionId: r.submission_id === null ? null : Number(r.submission_id), submissionState: r.submission_state ?? null,
      ack: r.ack_state ?? null, noti: r.noti_state ?? null,
      replies: replies.rows.filter((p) => p.file_name === r.file).map((p) => ({ name: p.name, kind: p.kind ?? null, state: p.state, receivedAt: (p.received_at as Date).toISOString() })),
      anomalies: mine.map((a) => ({ reply: a.reply, code: a.code, blocking: a.blocking, description: a.description ?? null })),
      finalState: 'pending',
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
