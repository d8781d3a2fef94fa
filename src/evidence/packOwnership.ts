import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../db/database.js';
import { readPackAnchors } from './packAnchor.js';
import { expectedHashes, ledgerHashes, packMismatch } from './verifyPack.js';

/** The submission a pack folder is looked at for, as the ledger holds it. */
export interface PackOwner {
  submission_id: string;
  created_at: Date;
}

/**
 * Whose pack the folder standing under a submission's pack name is. The ledger decides first: when
 * it anchored a pack of that name (packAnchor.ts), the folder is this submission's pack, whatever
 * its files now say (checkOwnPack then refuses one that changed). Without an anchor, its
 * transcript.json decides: naming this submission, created at the same instant, it is this
 * submission's pack (written before maillon anchored packs); naming another one, it is the pack of
 * another history of the ledger (ids that started again after a restore): `foreign`. A folder
 * without a transcript that can be read is `foreign` only when every pack of this submission would
 * have been anchored; otherwise nothing tells whose it is, and it is refused
 * (EvidenceMismatchError naming transcript.json) rather than moved aside.
 */
export async function packStanding(ledger: Pool, folder: string, sub: PackOwner): Promise<'own' | 'foreign'> {
  const anchors = await readPackAnchors(ledger, Number(sub.submission_id));
  if ((anchors.byPack.get(path.basename(folder)) ?? []).length > 0) return 'own';
  const named = await transcriptNames(folder);
  if (named === 'unreadable') {
    if (await anchors.required()) return 'foreign';
    throw packMismatch(
      folder,
      'transcript.json',
      'what a pack holds: its transcript.json is missing or is not the JSON maillon writes, and the ledger recorded no manifest for it, so nothing tells whose pack it is',
    );
  }
  return named.submission_id === sub.submission_id && named.created_at === sub.created_at.toISOString() ? 'own' : 'foreign';
}

/** The submission a pack's transcript.json names, or `unreadable` when it is missing or not JSON. */
async function transcriptNames(folder: string): Promise<{ submission_id: unknown; created_at: unknown } | 'unreadable'> {
  let text: string;
  try {
    text = await fs.readFile(path.join(folder, 'transcript.json'), 'utf8');
  } catch (err) {
    // Any other failure to read is not a verdict on the pack.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'unreadable';
    throw err;
  }
  try {
    const t = JSON.parse(text) as { submission?: { submission_id?: unknown; created_at?: unknown } } | null;
    return { submission_id: t?.submission?.submission_id, created_at: t?.submission?.created_at };
  } catch {
    return 'unreadable';
  }
}

/** The JSON files of a pack that maillon reads back when it finds the pack: their bytes are checked before they are believed. */
const READ_BACK = ['transcript.json', 'replies.json'];

/**
 * Checks a pack of this submission found on disk before anything is added beside it: against its
 * manifest and the ledger (expectedHashes: the files listed, the sent files' and reply bodies'
 * sha256, the manifest's anchor), and the bytes of the JSON files maillon reads back
 * (transcript.json, replies.json) against its manifest. Returns the reply ids its replies.json
 * carries. Throws EvidenceMismatchError naming the pack and the file.
 */
export async function checkOwnPack(ledger: Pool, folder: string, submissionId: number): Promise<string[]> {
  const { files, replyIds } = await expectedHashes(folder, await ledgerHashes(ledger, submissionId), { sentAll: true, pack: path.basename(folder) });
  for (const rel of READ_BACK) {
    const listed = files.get(rel);
    if (listed === undefined) throw packMismatch(folder, rel, `what a pack holds: its manifest.json does not list ${rel}`);
    // Small files, read whole (and present: expectedHashes found every file its manifest lists).
    const sha256 = createHash('sha256')
      .update(await fs.readFile(path.join(folder, rel)))
      .digest('hex');
    if (sha256 !== listed) throw packMismatch(folder, rel, `its manifest: ${rel} has the sha256 ${sha256}, its manifest.json says ${listed} (changed after the pack was written)`);
  }
  return replyIds;
}
