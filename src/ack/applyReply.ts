import { z } from 'zod';
import type { PoolClient } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { AckError } from '../errors/errors.js';
import { appendEvent } from '../ledger/events.js';
import { environmentColumn, ledgerId } from '../ledger/rowSchemas.js';
import { settleFromReplies } from '../ledger/transitions.js';
import { parseBatchFileName } from '../package/batchFileName.js';
import type { AnomalyStage } from './anomalyStage.js';
import { recordReadReply, type KeptBody } from './replyLedger.js';
import { answersCancelledDelivery, conflictOf, contradictsRejection, keepsAnomaliesOf, type NamedFile, type ReplyOrigin, type Repetition } from './replyRules.js';
import type { ReplyHeader } from './replyXml.js';

/** Where a reply came from and what was kept of it. */
export interface ReplySource extends ReplyOrigin {
  name: string;
  at: Date;
  body: KeptBody;
  signature: string | null;
  /** The modification time the server listed for it, or null when it listed none. */
  listedMtime: Date | null;
}

/** What a reply did: applied (and maybe moved its submission), or recorded as a conflict that changed nothing. */
export type AppliedReply =
  { state: 'processed'; submissionId: number; unmatched: number; submissionState: { from: string; to: string } | null } | { state: 'conflict'; submissionId: number; reason: string };

const NamedFileRow = z.object({
  file_id: ledgerId,
  run_id: ledgerId,
  file_key: z.string(),
  ack_state: z.enum(['received', 'rejected']).nullable(),
  ack_errors: z.array(z.string()).nullable(),
  noti_state: z.enum(['accepted', 'accepted_with_anomalies', 'rejected']).nullable(),
  submission_id: ledgerId,
  receiver: z.string(),
  environment: environmentColumn,
  state: z.string(),
  go_started: z.boolean(),
});
const AppliedRow = z.object({ reply_id: ledgerId, kind: z.enum(['ACRF', 'NOTI']), name: z.string(), sha256: z.string().nullable() });

/**
 * Applies a read reply inside the caller's transaction, under its submission's lock: the reply
 * is recorded, then either applied (the file's ACRF or NOTI state, the staged anomalies matched
 * to the records, the submission's state derived) or, when conflictOf finds a reason, recorded as
 * a conflict that changes nothing else. Throws AckError when the reply names no file of ours.
 */
export async function applyReply(tx: PoolClient, source: ReplySource, reply: ReplyHeader, stage: AnomalyStage): Promise<AppliedReply> {
  const file = await lockNamedFile(tx, reply.fileName);
  if (!file) throw new AckError(`The ${reply.kind} reply is about ${shownFileName(reply.fileName)}, which is not a file we sent; it was set aside.`, { fileName: reply.fileName });
  file.repetition = await repetitionOf(reply, source, file, stage);
  const reason = conflictOf(reply, source, file);
  const replyId = await recordReadReply(tx, {
    server: source.server,
    name: source.name,
    at: source.at,
    body: source.body,
    state: reason ? 'conflict' : 'processed',
    reason,
    kind: reply.kind,
    fileName: reply.fileName,
    signature: source.signature,
    listedMtime: source.listedMtime,
  });
  if (reason) {
    if (file.repetition && file.repetition.added > 0 && keepsAnomaliesOf(reply, source, file)) {
      await stage.dropKnown({ runId: file.runId, fileId: file.fileId });
      await stage.store({ replyId, fileId: file.fileId, runId: file.runId, fileKey: file.fileKey });
    }
    if (answersCancelledDelivery(reply, source, file)) await markAnsweredAfterCancel(tx, file.submissionId, source, reply.kind);
    if (contradictsRejection(reply, source, file)) await markAcceptedAfterReject(tx, file.submissionId, source, reply);
    return { state: 'conflict', submissionId: file.submissionId, reason };
  }
  let unmatched = 0;
  let otherInss = 0;
  if (reply.kind === 'ACRF') {
    await guardedFileUpdate(tx, `ack_state = $2, ack_errors = $3`, `ack_state IS NULL AND noti_state IS NULL`, [file.fileId, reply.accepted ? 'received' : 'rejected', reply.errorIds]);
  } else {
    await guardedFileUpdate(tx, `noti_state = $2`, `noti_state IS NULL AND ack_state IS DISTINCT FROM 'rejected'`, [file.fileId, reply.result]);
    ({ unmatched, otherInss } = await stage.store({ replyId, fileId: file.fileId, runId: file.runId, fileKey: file.fileKey }));
  }
  await appendEvent(tx, {
    at: source.at,
    submissionId: file.submissionId,
    kind: reply.kind === 'ACRF' ? 'acrf' : 'noti',
    detail: {
      reply: source.name,
      file: reply.fileName,
      ...(reply.kind === 'ACRF' ? { accepted: reply.accepted, errorIds: reply.errorIds } : { result: reply.result, anomalies: reply.anomalies, unmatched, ...(otherInss ? { otherInss } : {}) }),
    },
  });
  const submissionState = await deriveSubmissionState(tx, file.submissionId, source.at, source.name);
  return { state: 'processed', submissionId: file.submissionId, unmatched, submissionState };
}

/**
 * Moves a submission to the state its files' replies say, by the ledger's guarded transition
 * (settleFromReplies: a final state is never left), and records that move as an event only when
 * it happened. The caller holds the submission's lock. Returns the change, or null.
 */
export async function deriveSubmissionState(tx: PoolClient, submissionId: number, at: Date, reply: string): Promise<{ from: string; to: string } | null> {
  const before = await queryFirst(tx, 'SELECT state FROM maillon.submissions WHERE submission_id = $1', [submissionId], z.object({ state: z.string() }));
  const to = await settleFromReplies(tx, submissionId);
  if (!to) return null;
  const change = { from: before!.state, to };
  await appendEvent(tx, { at, submissionId, kind: change.to, detail: { from: change.from, reply } });
  return change;
}

/**
 * The receiver answered a submission cancelled after its GO: it took the GO before the TD and may
 * hold it. The first such reply sets the instant, and the highest submission id then (what was
 * written before the answer decides nothing of it: periodState's mayHold), by a guarded update,
 * with its event in the caller's transaction; a later one changes nothing and writes no event.
 */
async function markAnsweredAfterCancel(tx: PoolClient, submissionId: number, source: ReplySource, kind: ReplyHeader['kind']): Promise<void> {
  const res = await tx.query(
    `UPDATE maillon.submissions SET answered_after_cancel_at = $2, answered_after_cancel_last_id = (SELECT max(submission_id) FROM maillon.submissions)
     WHERE submission_id = $1 AND state = 'cancelled' AND go_started_at IS NOT NULL AND answered_after_cancel_at IS NULL`,
    [submissionId, source.at],
  );
  if (res.rowCount === 1) await appendEvent(tx, { at: source.at, submissionId, kind: 'answered_after_cancel', detail: { reply: source.name, replyKind: kind } });
}

/**
 * How a second ACRF or NOTI of a file compares with the one applied: the same bytes, or the same
 * error ids (ACRF) or anomalies (NOTI, compared in the ledger, by one statement); what it adds.
 * Undefined when no reply of its kind was applied to the file.
 */
async function repetitionOf(reply: ReplyHeader, source: ReplySource, file: LockedFile, stage: AnomalyStage): Promise<Repetition | undefined> {
  const applied = file.appliedRows[reply.kind];
  if (!applied || (reply.kind === 'ACRF' ? !file.ack : !file.noti)) return undefined;
  if (applied.sha256 !== null && applied.sha256 === source.body.sha256) return { same: true, added: 0, addedBlocking: 0 };
  if (reply.kind === 'ACRF') {
    const left = [...file.ackErrors];
    let added = 0;
    for (const id of reply.errorIds) {
      const at = left.indexOf(id);
      if (at < 0) added++;
      else left.splice(at, 1);
    }
    return { same: added === 0 && left.length === 0, added, addedBlocking: 0 };
  }
  return stage.compare({ runId: file.runId, fileId: file.fileId, replyId: applied.reply_id });
}

type LockedFile = NamedFile & { fileId: number; runId: number; fileKey: string; ackErrors: readonly string[]; appliedRows: Partial<Record<'ACRF' | 'NOTI', z.output<typeof AppliedRow>>> };

/**
 * The receiver took a file of a submission the ledger says it rejected (a positive reply after a
 * negative one): it may hold it. The same marker as an answer after a cancel (the period needs an
 * operator's decision, serve does not write it again, a rerun is refused until
 * --receiver-holds-nothing), set by the first such reply with an `accepted_after_reject` event.
 */
async function markAcceptedAfterReject(tx: PoolClient, submissionId: number, source: ReplySource, reply: ReplyHeader): Promise<void> {
  // With the highest submission id then, as after a cancel: a version written after the rejection
  // and before this reply (the operator's run of the period again) does not clear it.
  const res = await tx.query(
    `UPDATE maillon.submissions SET answered_after_cancel_at = $2, answered_after_cancel_last_id = (SELECT max(submission_id) FROM maillon.submissions)
     WHERE submission_id = $1 AND state = 'rejected' AND answered_after_cancel_at IS NULL`,
    [submissionId, source.at],
  );
  const says = reply.kind === 'ACRF' ? 'received' : reply.result;
  if (res.rowCount === 1) await appendEvent(tx, { at: source.at, submissionId, kind: 'accepted_after_reject', detail: { reply: source.name, replyKind: reply.kind, says } });
}

/** The FI file a reply names, its submission locked (replies, send and cancel serialise on it); null when we sent no such file. */
async function lockNamedFile(tx: PoolClient, fileName: string): Promise<LockedFile | null> {
  const row = await queryFirst(
    tx,
    `SELECT f.file_id, f.run_id, f.file_key, f.ack_state, f.ack_errors, f.noti_state, s.submission_id, s.receiver, s.environment, s.state, s.go_started_at IS NOT NULL AS go_started
     FROM maillon.files f JOIN maillon.submissions s USING (submission_id) WHERE f.name = $1 AND f.kind = 'FI' FOR UPDATE OF s`,
    [fileName],
    NamedFileRow,
  );
  if (!row) return null;
  const applied = await queryRows(tx, `SELECT reply_id, kind, name, sha256 FROM maillon.replies WHERE file_name = $1 AND state = 'processed' ORDER BY reply_id`, [fileName], AppliedRow);
  return {
    name: fileName,
    fileId: row.file_id,
    runId: row.run_id,
    fileKey: row.file_key,
    submissionId: row.submission_id,
    receiver: row.receiver,
    environment: row.environment,
    submissionState: row.state,
    goStarted: row.go_started,
    ack: row.ack_state,
    noti: row.noti_state,
    applied: Object.fromEntries(applied.map((r) => [r.kind, r.name])),
    ackErrors: row.ack_errors ?? [],
    appliedRows: Object.fromEntries(applied.map((r) => [r.kind, r])),
  };
}

/** Updates a file's reply state from the states it may leave; under the lock it cannot miss, so a miss is a defect. */
async function guardedFileUpdate(tx: PoolClient, set: string, from: string, params: unknown[]): Promise<void> {
  const res = await tx.query(`UPDATE maillon.files SET ${set} WHERE file_id = $1 AND ${from}`, params);
  if (res.rowCount !== 1) throw new Error(`the reply state of file ${String(params[0])} changed under its submission's lock; this is a defect of maillon`);
}

/** The FileName a reply gives, shown in a reason only in the batch-channel shape, which holds no person's number. */
function shownFileName(fileName: string): string {
  try {
    parseBatchFileName(fileName);
    return fileName;
  } catch {
    return 'a FileName that is not a batch-channel file name';
  }
}
