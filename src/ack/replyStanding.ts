import { createHash } from 'node:crypto';
import type * as pkijs from 'pkijs';
import { z } from 'zod';
import { DEFAULT_MAX_UNZIPPED_BYTES } from '../config/config.js';
import type { Pool } from '../db/database.js';
import type { ReplyDependency } from '../errors/errors.js';
import { queryFirst } from '../db/queryRows.js';
import { ledgerId } from '../ledger/rowSchemas.js';

/** How many failed downloads of one reply before it stays set aside (until its size or an operator says otherwise). */
export const MAX_DOWNLOAD_ATTEMPTS = 3;

/** The settings a reply may have been set aside for, as they are now. */
export interface ReplySettings {
  maxReplyBytes: number;
  maxUnzippedBytes: number;
  /** trustStoreFingerprint of MAILLON_TRUST_STORE. */
  trustStore: string;
}

/** What the listing shows of a reply now, and what the operator asked. */
export interface ListedReply {
  name: string;
  size: number;
  /** The modification time listed (whole seconds), or null when the server lists none. */
  mtime: Date | null;
  /** Its signature companion (FS) is listed beside it. */
  companionListed: boolean;
  /** The operator asked to read it again (maillon acks --reread). */
  reread: boolean;
}

/** A reply already read (applied or in conflict), as it was read. */
export interface ReplacedReply {
  replyId: number;
  state: 'processed' | 'conflict';
  bytes: number;
  /** The sha256 of the bytes read. */
  sha256: string | null;
  receivedAt: Date;
}

/**
 * Whether a listed reply is to be read (for the first time, or again), or is known: then
 * `replaced` when the server lists a reply already read with another size, `recheck` when with its
 * size but another modification time (its content is to be hashed again), both null otherwise.
 */
export type ReplyStanding = { read: true; failedDownloads: number } | { read: false; replaced: ReplacedReply | null; recheck: ReplacedReply | null };

const StandingRow = z.object({
  reply_id: ledgerId,
  state: z.enum(['processed', 'conflict', 'set_aside']),
  attempts: z.number().nullable(),
  bytes: z.coerce.number().nullable(),
  sha256: z.string().nullable(),
  listed_bytes: z.coerce.number().nullable(),
  listed_mtime: z.date().nullable(),
  depends_on: z.enum(['max_reply_bytes', 'max_unzipped_bytes', 'trust_store', 'signature']).nullable(),
  depends_value: z.string().nullable(),
  received_at: z.date(),
});
type StandingRow = z.infer<typeof StandingRow>;

/** Where a reply found on a server (by server and name) stands in the ledger. */
export async function replyStanding(ledger: Pool, server: string, listed: ListedReply, settings: ReplySettings): Promise<ReplyStanding> {
  const row = await queryFirst(
    ledger,
    `SELECT reply_id, state, attempts, bytes, sha256, listed_bytes, listed_mtime, depends_on, depends_value, received_at FROM maillon.replies WHERE server = $1 AND name = $2`,
    [server, listed.name],
    StandingRow,
  );
  return standingOf(row ?? null, listed, settings);
}

/**
 * The decision, from the ledger's row. A reply set aside changed nothing, so it is read again
 * whenever reading it may now end otherwise: its download failed fewer than MAX_DOWNLOAD_ATTEMPTS
 * times; the server lists another size than the one it was judged with (the receiver completed or
 * replaced it); the setting it was refused for changed (a higher MAILLON_MAX_REPLY_BYTES or
 * MAILLON_MAX_UNZIPPED_BYTES, another trust store); it came unsigned and its signature companion is listed now; or the operator asked.
 * Each of these holds once per change, so a large reply is not downloaded again every pass. A
 * reply already read is never read again: listed with another size, it was replaced on the server;
 * listed with its size but another modification time than the one recorded (or none recorded: read
 * before times were), its content is hashed again to tell whether it was. An unchanged listing
 * (size and time) is trusted: nothing is downloaded for it.
 */
export function standingOf(row: StandingRow | null, listed: ListedReply, settings: ReplySettings): ReplyStanding {
  if (!row) return { read: true, failedDownloads: 0 };
  const judgedSize = row.bytes ?? row.listed_bytes;
  const resized = judgedSize !== null && judgedSize !== listed.size;
  if (row.state !== 'set_aside') {
    // A reply read has its bytes and their sha256 (recordReadReply); only a set-aside one may lack them.
    const was = { replyId: row.reply_id, state: row.state, bytes: judgedSize ?? 0, sha256: row.sha256, receivedAt: row.received_at };
    if (resized) return { read: false, replaced: was, recheck: null };
    const relisted = listed.mtime !== null && row.sha256 !== null && row.listed_mtime?.getTime() !== listed.mtime.getTime();
    return { read: false, replaced: null, recheck: relisted ? was : null };
  }
  if (listed.reread || resized) return { read: true, failedDownloads: 0 };
  if (row.attempts !== null && row.attempts < MAX_DOWNLOAD_ATTEMPTS) return { read: true, failedDownloads: row.attempts };
  if (row.depends_on === 'max_reply_bytes' && settings.maxReplyBytes > Number(row.depends_value)) return { read: true, failedDownloads: 0 };
  if (row.depends_on === 'max_unzipped_bytes' && settings.maxUnzippedBytes > Number(row.depends_value)) return { read: true, failedDownloads: 0 };
  if ((row.depends_on === 'trust_store' || row.depends_on === 'signature') && settings.trustStore !== row.depends_value) return { read: true, failedDownloads: 0 };
  if (row.depends_on === 'signature' && listed.companionListed) return { read: true, failedDownloads: 0 };
  return { read: false, replaced: null, recheck: null };
}

const fingerprints = new WeakMap<readonly pkijs.Certificate[], string>();

/** The settings a reply may be set aside for, as configured now (MAILLON_MAX_REPLY_BYTES, MAILLON_MAX_UNZIPPED_BYTES, MAILLON_TRUST_STORE). */
export function replySettings(configured: { maxReplyBytes: number; maxUnzippedBytes?: number; trustStore?: readonly pkijs.Certificate[] }): ReplySettings {
  return {
    maxReplyBytes: configured.maxReplyBytes,
    maxUnzippedBytes: configured.maxUnzippedBytes ?? DEFAULT_MAX_UNZIPPED_BYTES,
    trustStore: trustStoreFingerprint(configured.trustStore),
  };
}

/** A fingerprint of a trust store (its certificates, in any order), or 'none' without one: what a set-aside reply remembers of it. */
export function trustStoreFingerprint(certificates: readonly pkijs.Certificate[] | undefined): string {
  if (!certificates?.length) return 'none';
  let known = fingerprints.get(certificates);
  if (known === undefined) {
    const each = certificates
      .map((c) =>
        createHash('sha256')
          .update(Buffer.from(c.toSchema(true).toBER(false)))
          .digest('hex'),
      )
      .sort();
    known = `sha256:${createHash('sha256').update(each.join('\n')).digest('hex')}`;
    fingerprints.set(certificates, known);
  }
  return known;
}

/** The value of the setting a reply was refused for, as it is now (kept with the set-aside reply). */
export function dependencyValue(dependsOn: ReplyDependency, settings: ReplySettings): string {
  if (dependsOn === 'max_reply_bytes') return String(settings.maxReplyBytes);
  if (dependsOn === 'max_unzipped_bytes') return String(settings.maxUnzippedBytes);
  return settings.trustStore;
}
