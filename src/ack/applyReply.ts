import type { PoolClient } from '../db/database.js';
import { AckError } from '../errors/errors.js';
import { appendEvent } from '../ledger/events.js';
import { settleFromReplies } from '../ledger/transitions.js';
import type { Acrf, Noti } from './replyXml.js';

/**
 * Applies an ACRF or NOTI to the ledger inside the caller's transaction: the file's state, the
 * anomalies matched to emitted records (by INSS and the file's lineage), and the submission's
 * state derived from all its files. Throws AckError when the reply names no file of ours.
 */
export async function applyReply(tx: PoolClient, replyId: number, replyName: string, at: Date, reply: Acrf | Noti): Promise<{ submissionId: number; unmatched: number }> {
  const file = await tx.query<{ file_id: string; submission_id: string; run_id: string; file_key: string }>(
    `SELECT file_id, submission_id, run_id, file_key FROM maillon.files WHERE name = $1 AND kind = 'FI'`,
    [reply.fileName],
  );
  const f = file.rows[0];
  if (!f) throw new AckError(`The ${reply.kind} reply is about ${reply.fileName.slice(0, 80)}, which is not a file we sent; it was set aside.`);
  let unmatched = 0;
  if (reply.kind === 'ACRF') {
    await tx.query(`UPDATE maillon.files SET ack_state = $2, ack_errors = $3 WHERE file_id = $1`, [f.file_id, reply.accepted ? 'received' : 'rejected', reply.errorIds]);
  } else {
    await tx.query(`UPDATE maillon.files SET noti_state = $2 WHERE file_id = $1`, [f.file_id, reply.result]);
    for (const a of reply.anomalies) {
      const match = await tx.query<{ ordinal: number }>(
        `SELECT ordinal FROM maillon.record_outcomes
         WHERE run_id = $1 AND file_key = $2 AND outcome = 'emitted' AND record_key = $3 AND ($4::bigint IS NULL OR attestation_id = $4)
         ORDER BY ordinal LIMIT 1`,
        [f.run_id, f.file_key, a.inss, a.attestationId],
      );
      if (!match.rows[0]) unmatched++;
      await tx.query(
        `INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, inss, attestation_id, blocking, code, description)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [replyId, f.file_id, f.run_id, match.rows[0]?.ordinal ?? null, a.inss, a.attestationId, a.blocking, a.code, a.description],
      );
    }
  }
  // The submission moves only by the guarded transition: a final state is never left.
  await settleFromReplies(tx, Number(f.submission_id));
  const state = await tx.query<{ state: string }>('SELECT state FROM maillon.submissions WHERE submission_id = $1', [f.submission_id]);
  await appendEvent(tx, {
    at,
    submissionId: Number(f.submission_id),
    kind: reply.kind === 'ACRF' ? 'acrf' : 'noti',
    detail: {
      reply: replyName, file: reply.fileName, state: state.rows[0]!.state,
      ...(reply.kind === 'ACRF' ? { accepted: reply.accepted, errorIds: reply.errorIds } : { result: reply.result, anomalies: reply.anomalies.length, unmatched }),
    },
  });
  return { submissionId: Number(f.submission_id), unmatched };
}
