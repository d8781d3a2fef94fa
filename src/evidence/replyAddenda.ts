import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock/clock.js';
import type { Pool } from '../db/database.js';
import { anchorPack } from './packAnchor.js';
import { readReplies, writeReplies } from './packReplies.js';
import { createPackWriter, json, makeReadOnly } from './packWriter.js';
import { makeWritable } from './staleTemps.js';

/**
 * Folder of the addenda of a pack (`submission-<id>.addenda/`, beside it): one read-only folder
 * `reply-<reply_id>/` per reply the ledger recorded about the submission's files after its pack
 * was written (a conflicting NOTI, a replay, an answer after a cancel). The pack itself is never
 * rewritten.
 */
export function addendaFolder(pack: string): string {
  return `${pack}.addenda`;
}

/** The reply id of an addendum folder's name, or null for any other name. */
export function addendumReplyId(name: string): string | null {
  return /^reply-(\d+)$/.exec(name)?.[1] ?? null;
}

/** The name an addendum's anchor gives it: `submission-<id>.addenda/reply-<reply id>`. */
function addendumName(pack: string, replyId: string): string {
  return `${path.basename(addendaFolder(pack))}/reply-${replyId}`;
}

/** The submission an addendum belongs to, as its addendum.json names it. */
export interface AddendumOf {
  submission_id: string;
  created_at: Date;
  state: string;
}

/**
 * Writes an addendum for every reply the ledger holds about the pack's data files that neither
 * the pack (`inPack`: the reply ids of its replies.json, once the pack was checked, checkOwnPack)
 * nor an addendum carries yet: `replies.json` (that one reply, as a
 * pack lists its replies, body checked against the ledger's sha256), its body under `replies/`,
 * `addendum.json` (the submission, its state now) and `manifest.json`. Each is written in a
 * temporary folder, its manifest anchored in the ledger, made read-only and renamed, like a pack.
 * Returns the reply ids written.
 */
export async function writeAddenda(ledger: Pool, pack: string, of: AddendumOf, inPack: readonly string[], dataFiles: readonly string[], clock: Clock): Promise<string[]> {
  const dir = addendaFolder(pack);
  const covered = new Set([...inPack, ...(existsSync(dir) ? (await fs.readdir(dir)).map(addendumReplyId).filter((id) => id !== null) : [])]);
  const missing = (await readReplies(ledger, dataFiles)).filter((r) => !covered.has(r.reply_id));
  if (missing.length === 0) return [];
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  for (const reply of missing) {
    const tmp = await fs.mkdtemp(path.join(dir, `.reply-${reply.reply_id}-`));
    try {
      const writer = createPackWriter(tmp);
      await writer.write('addendum.json', json({ submission: of, pack: path.basename(pack), reply_id: reply.reply_id, note: 'a reply the ledger recorded after the pack was written' }));
      await writeReplies(writer, [reply]);
      const manifest = json(writer.entries);
      await fs.writeFile(path.join(tmp, 'manifest.json'), manifest, { mode: 0o400 });
      await anchorPack(ledger, clock, Number(of.submission_id), addendumName(pack, reply.reply_id), manifest);
      await makeReadOnly(tmp);
      await fs.rename(tmp, path.join(dir, `reply-${reply.reply_id}`));
    } catch (err) {
      // Made read-only before its rename: made writable again to be removed.
      await makeWritable(tmp);
      await fs.rm(tmp, { recursive: true, force: true });
      // Another process wrote the same addendum meanwhile: it stands.
      if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
  }
  return missing.map((r) => r.reply_id);
}
