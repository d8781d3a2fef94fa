import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { json, type PackWriter } from './packWriter.js';

const id = z.string();
const at = z.date();

/** A reply as the ledger holds it (BIGINT as text, timestamptz as Date), columns in replies.json's order. */
const ReplyRow = z.object({
  reply_id: id,
  name: z.string(),
  server: z.string(),
  received_at: at,
  bytes: id.nullable(),
  sha256: z.string().nullable(),
  local_path: z.string().nullable(),
  state: z.string(),
  reason: z.string().nullable(),
  kind: z.string().nullable(),
  file_name: z.string().nullable(),
  signature: z.string().nullable(),
});
/** A reply as the ledger holds it. */
export type ReplyRow = z.output<typeof ReplyRow>;

/** The replies the ledger recorded about these data files, whatever their state, in the order recorded. */
export async function readReplies(ledger: Pool, fileNames: readonly string[]): Promise<ReplyRow[]> {
  return queryRows(
    ledger,
    `SELECT reply_id, name, server, received_at, bytes, sha256, local_path, state, reason, kind, file_name, signature FROM maillon.replies WHERE file_name = ANY($1) ORDER BY reply_id`,
    [fileNames],
    ReplyRow,
  );
}

/**
 * The replies recorded about the submission's files, whatever their state (an auditor sees the
 * conflicts and the set-aside ones too, marked): each kept body under its own entry, and
 * replies.json naming, for each reply (server, name), the entry holding its body.
 */
export async function writeReplies(pack: PackWriter, replies: readonly ReplyRow[]): Promise<void> {
  const entries = replyEntries(replies);
  const listed = [];
  for (const [i, { local_path: from, ...r }] of replies.entries()) listed.push({ ...r, ...(await keepBody(pack, entries[i]!, from, r.sha256)) });
  await pack.write('replies.json', json(listed));
}

/**
 * What the pack says of a reply's body (`body`), never silent: `kept` under `entry`, its bytes
 * those the ledger hashed when the reply was recorded; `unverified` (kept, but the ledger holds no
 * sha256 to check it against); `not kept` (the ledger kept no body: not downloaded); `missing` (the
 * ledger's copy is gone); `differs` (the ledger's copy no longer has the sha256 recorded: not put
 * in the pack, its bytes and sha256 now given as `found`). Only the ledger's bytes enter a pack.
 */
async function keepBody(
  pack: PackWriter,
  entry: string,
  from: string | null,
  sha256: string | null,
): Promise<{ entry: string | null; body: 'kept' | 'unverified' | 'not kept' | 'missing' | 'differs'; found?: { bytes: number; sha256: string } }> {
  if (!from) return { entry: null, body: 'not kept' };
  if (!existsSync(from)) return { entry: null, body: 'missing' };
  if (sha256 === null) return { entry: (await pack.copy(entry, from)).path, body: 'unverified' };
  const copied = await pack.copyIfMatches(entry, from, sha256);
  return copied.kept ? { entry, body: 'kept' } : { entry: null, body: 'differs', found: { bytes: copied.bytes, sha256: copied.sha256 } };
}

/**
 * The pack entry of each reply's body, in the order given: `replies/<name>`, or, for a name an
 * earlier reply already took (the same name recorded from another server or folder: a replay),
 * `replies/<name>.reply-<reply_id>`. Every reply of the ledger keeps its own entry.
 */
function replyEntries(replies: readonly { reply_id: string; name: string }[]): string[] {
  const taken = new Set<string>();
  return replies.map((r) => {
    const entry = taken.has(`replies/${r.name}`) ? `replies/${r.name}.reply-${r.reply_id}` : `replies/${r.name}`;
    taken.add(entry);
    return entry;
  });
}
