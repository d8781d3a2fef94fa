import path from 'node:path/posix';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import type { SftpSession } from './sftpSession.js';

/**
 * True when a send of the submission may have left files on the receiver's server: an attempt
 * reached it (its host key is recorded once connected), or one never finished (killed: whether it
 * connected is not known). Attempts that failed before connecting (a server unreachable, a wrong
 * address) left nothing: such a submission is cancelled without connecting.
 */
export async function uploadAttempted(ledger: Pool, submissionId: number): Promise<boolean> {
  const row = await queryFirst(
    ledger,
    'SELECT EXISTS (SELECT 1 FROM maillon.transfer_attempts WHERE submission_id = $1 AND (host_key IS NOT NULL OR finished_at IS NULL)) AS attempted',
    [submissionId],
    z.object({ attempted: z.boolean() }),
  );
  return row?.attempted ?? false;
}

/** The names of the submission's data files (FI, FS) as a send uploads them. */
export async function dataFileNames(ledger: Pool, submissionId: number): Promise<string[]> {
  const rows = await queryRows(ledger, `SELECT name FROM maillon.files WHERE submission_id = $1 AND kind IN ('FI', 'FS') ORDER BY part, kind`, [submissionId], z.object({ name: z.string() }));
  return rows.map((r) => r.name);
}

/**
 * Removes from the receiver's IN folder what a send stopped before its GO was started (killed, or
 * refused by the ledger) left of a submission: its data files under their final or temporary
 * names, and its GO under its temporary name. No GO ever announced them, so the receiver never
 * took them. Returns the names removed (temporary names with their leading dot and `.part`).
 */
export async function removeUnannounced(session: SftpSession, inDir: string, dataFiles: readonly string[], go: string): Promise<string[]> {
  const removed: string[] = [];
  const candidates = [`.${go}.part`, ...dataFiles.flatMap((name) => [name, `.${name}.part`])];
  for (const name of candidates) {
    const remote = path.join(inDir, name);
    if ((await session.exists(remote)) !== '-') continue;
    await session.remove(remote);
    removed.push(name);
  }
  return removed;
}
