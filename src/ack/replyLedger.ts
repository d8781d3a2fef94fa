import { z } from 'zod';
import type { Pool, PoolClient } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';
import type { ReplyDependency } from '../errors/errors.js';
import { ledgerId } from '../ledger/rowSchemas.js';

/** What is kept of a reply that was downloaded. */
export interface KeptBody {
  localPath: string;
  bytes: number;
  sha256: string;
  /** Its signature companion (FS), kept beside it under the same `<instant>-<random>-` prefix, when it came with one. */
  signaturePath?: string;
}

/** A reply that was read in full: applied ('processed') or not believed ('conflict'). */
export interface ReadReply {
  server: string;
  name: string;
  at: Date;
  body: KeptBody;
  state: 'processed' | 'conflict';
  reason: string | null;
  kind: 'ACRF' | 'NOTI';
  fileName: string;
  signature: string | null;
  /** The modification time the listing showed, or null when it showed none. */
  listedMtime: Date | null;
}

/** Records a reply that was read, in the transaction that applies it (replacing the row of its failed downloads); returns its id. */
export async function recordReadReply(tx: PoolClient, r: ReadReply): Promise<number> {
  await tx.query(`DELETE FROM maillon.replies WHERE server = $1 AND name = $2 AND state = 'set_aside'`, [r.server, r.name]);
  const row = await queryFirst(
    tx,
    `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, reason, kind, file_name, signature, listed_mtime)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING reply_id`,
    [r.server, r.name, r.at, r.body.bytes, r.body.sha256, r.body.localPath, r.state, r.reason, r.kind, r.fileName, r.signature, r.listedMtime],
    z.object({ reply_id: ledgerId }),
  );
  return row!.reply_id;
}

/** A reply set aside: unreadable, hostile, oversized, unknown, unverifiable, or its downloads failed. */
export interface SetAsideReply {
  server: string;
  name: string;
  at: Date;
  reason: string;
  body: KeptBody | null;
  fileName: string | null;
  /** The size the listing showed. */
  listedBytes: number;
  /** Set for a failed download: the number of failures so far (tried again below MAX_DOWNLOAD_ATTEMPTS). */
  attempts?: number;
  /** The setting the refusal depends on and its value now: the reply is read again once it changes. */
  dependsOn?: { setting: ReplyDependency; value: string };
}

/** Records a set-aside reply, over its earlier set-aside row if any (it was read again); a reply read meanwhile is left alone. */
export async function recordSetAside(ledger: Pool, r: SetAsideReply): Promise<void> {
  await ledger.query(
    `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, reason, file_name, attempts, listed_bytes, depends_on, depends_value)
     VALUES ($1, $2, $3, $4, $5, $6, 'set_aside', $7, $8, $9, $10, $11, $12)
     ON CONFLICT (server, name) DO UPDATE SET received_at = EXCLUDED.received_at, bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256,
       local_path = EXCLUDED.local_path, reason = EXCLUDED.reason, file_name = EXCLUDED.file_name, attempts = EXCLUDED.attempts,
       listed_bytes = EXCLUDED.listed_bytes, depends_on = EXCLUDED.depends_on, depends_value = EXCLUDED.depends_value
     WHERE maillon.replies.state = 'set_aside'`,
    [
      r.server,
      r.name,
      r.at,
      r.body?.bytes ?? null,
      r.body?.sha256 ?? null,
      r.body?.localPath ?? null,
      r.reason,
      r.fileName,
      r.attempts ?? null,
      r.listedBytes,
      r.dependsOn?.setting ?? null,
      r.dependsOn?.value ?? null,
    ],
  );
}

/** What a reply already read was found to hold instead: its size, and its sha256 when it was hashed (same size, other content). */
export interface ReplacedContent {
  bytes: number;
  sha256: string | null;
  /** The modification time listed when it was hashed (recorded with it), or null. */
  listedMtime: Date | null;
}

/**
 * Records that a reply already read holds other content on the server (another size, or the same
 * size and another sha256); true the first time that size and content is seen (it is then
 * reported), false when it was already.
 */
export async function recordReplaced(ledger: Pool, replyId: number, seen: ReplacedContent, at: Date): Promise<boolean> {
  const updated = await ledger.query(
    `UPDATE maillon.replies SET replaced_bytes = $2, replaced_sha256 = $3, replaced_at = $4, listed_mtime = coalesce($5, listed_mtime)
     WHERE reply_id = $1 AND (replaced_bytes, replaced_sha256) IS DISTINCT FROM ($2::bigint, $3::text)`,
    [replyId, seen.bytes, seen.sha256, at, seen.listedMtime],
  );
  return (updated.rowCount ?? 0) > 0;
}

/** Records the modification time a reply already read was listed with when its content was last checked. */
export async function recordListedTime(ledger: Pool, replyId: number, listedMtime: Date): Promise<void> {
  await ledger.query(`UPDATE maillon.replies SET listed_mtime = $2 WHERE reply_id = $1`, [replyId, listedMtime]);
}
