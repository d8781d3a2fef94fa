import { z } from 'zod';
import type { Pool, PoolClient } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';
import { ledgerId } from '../ledger/rowSchemas.js';

/** How many failed downloads of one reply before it stays set aside for good. */
export const MAX_DOWNLOAD_ATTEMPTS = 3;

/** Where a reply found on a server stands in the ledger. */
export type ReplyStanding = { known: true } | { known: false; failedDownloads: number };

/** Whether a reply (by server and name) was already read, or still has to be (after failed downloads, maybe). */
export async function replyStanding(ledger: Pool, server: string, name: string): Promise<ReplyStanding> {
  const row = await queryFirst(ledger, 'SELECT state, attempts FROM maillon.replies WHERE server = $1 AND name = $2', [server, name], z.object({ state: z.string(), attempts: z.number().nullable() }));
  if (!row) return { known: false, failedDownloads: 0 };
  if (row.state === 'set_aside' && row.attempts !== null && row.attempts < MAX_DOWNLOAD_ATTEMPTS) return { known: false, failedDownloads: row.attempts };
  return { known: true };
}

/** What is kept of a reply that was downloaded. */
export interface KeptBody {
  localPath: string;
  bytes: number;
  sha256: string;
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
}

/** Records a reply that was read, in the transaction that applies it (replacing the row of its failed downloads); returns its id. */
export async function recordReadReply(tx: PoolClient, r: ReadReply): Promise<number> {
  await tx.query(`DELETE FROM maillon.replies WHERE server = $1 AND name = $2 AND state = 'set_aside' AND attempts IS NOT NULL`, [r.server, r.name]);
  const row = await queryFirst(
    tx,
    `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, reason, kind, file_name, signature)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING reply_id`,
    [r.server, r.name, r.at, r.body.bytes, r.body.sha256, r.body.localPath, r.state, r.reason, r.kind, r.fileName, r.signature],
    z.object({ reply_id: ledgerId }),
  );
  return row!.reply_id;
}

/** A reply set aside for good: unreadable, hostile, oversized, unknown, or its downloads failed too often. */
export interface SetAsideReply {
  server: string;
  name: string;
  at: Date;
  reason: string;
  body: KeptBody | null;
  fileName: string | null;
  /** Set for a failed download: the number of failures so far (tried again below MAX_DOWNLOAD_ATTEMPTS). */
  attempts?: number;
}

/** Records a set-aside reply, over the row of its earlier failed downloads if any; a row of another state is left alone. */
export async function recordSetAside(ledger: Pool, r: SetAsideReply): Promise<void> {
  await ledger.query(
    `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, reason, file_name, attempts)
     VALUES ($1, $2, $3, $4, $5, $6, 'set_aside', $7, $8, $9)
     ON CONFLICT (server, name) DO UPDATE SET received_at = EXCLUDED.received_at, bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256,
       local_path = EXCLUDED.local_path, reason = EXCLUDED.reason, file_name = EXCLUDED.file_name, attempts = EXCLUDED.attempts
     WHERE maillon.replies.state = 'set_aside' AND maillon.replies.attempts IS NOT NULL`,
    [r.server, r.name, r.at, r.body?.bytes ?? null, r.body?.sha256 ?? null, r.body?.localPath ?? null, r.reason, r.fileName, r.attempts ?? null],
  );
}
