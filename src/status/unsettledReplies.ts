import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { maskPersonalData } from '../log/maskPersonalData.js';

/** A reply no period shows (set aside before it named a file) or one replaced on the server after it was read. */
export interface UnsettledReply {
  /** `user@host:port/dir` it was found in. */
  server: string;
  /** Its name (at most 120 characters, a person's number masked). */
  name: string;
  /** set_aside: not read, or not believed, and tied to no period; replaced: read, then found on the server with another size or other content of the same size. */
  issue: 'set_aside' | 'replaced';
  reason: string;
  /** When it was set aside, or first seen replaced. */
  at: string;
  /** What the operator can do, as a command; null when maillon can do nothing more about it. */
  action: string | null;
}

/** How many are listed at most (the most recent first). */
const LIMIT = 50;

/**
 * The replies an operator must hear of that no report shows: set aside with no file named (a bad
 * name, a directory, a download given up, a reply too large or unreadable) and replies already read
 * that the server holds now with another size or other content. All environments; recorded since `since`.
 */
export async function readUnsettledReplies(ledger: Pool, since: Date): Promise<UnsettledReply[]> {
  const rows = await queryRows(
    ledger,
    `SELECT server, name, state, reason, bytes, replaced_bytes, replaced_sha256, coalesce(replaced_at, received_at) AS at
     FROM maillon.replies
     WHERE ((state = 'set_aside' AND file_name IS NULL) OR replaced_bytes IS NOT NULL) AND coalesce(replaced_at, received_at) >= $1
     ORDER BY at DESC, name LIMIT ${LIMIT}`,
    [since],
    z.object({
      server: z.string(),
      name: z.string(),
      state: z.enum(['processed', 'conflict', 'set_aside']),
      reason: z.string().nullable(),
      bytes: z.coerce.number().nullable(),
      replaced_bytes: z.coerce.number().nullable(),
      replaced_sha256: z.string().nullable(),
      at: z.date(),
    }),
  );
  return rows.map((r) => {
    const name = maskPersonalData(r.name.slice(0, 120));
    if (r.state === 'set_aside') {
      return { server: r.server, name, issue: 'set_aside', reason: maskPersonalData(r.reason ?? ''), at: r.at.toISOString(), action: `maillon acks --reread ${name}` };
    }
    const read = r.state === 'processed' ? 'applied' : 'recorded as a conflict';
    return {
      server: r.server,
      name,
      issue: 'replaced',
      reason:
        r.replaced_sha256 === null
          ? `Replaced on the server: read with ${r.bytes} bytes (${read}), now listed with ${r.replaced_bytes}; the new content was not read and what was read stands. Ask the receiver what it meant (a correction comes under a new name).`
          : `Replaced on the server: read with ${r.bytes} bytes (${read}), now holding other content of ${r.replaced_bytes} bytes (sha256 ${r.replaced_sha256.slice(0, 16)}…); the new content was not applied and what was read stands. Ask the receiver what it meant (a correction comes under a new name).`,
      at: r.at.toISOString(),
      action: null,
    };
  });
}
