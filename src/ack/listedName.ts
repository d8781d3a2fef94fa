import { createHash } from 'node:crypto';
import pg from 'pg';
import { AckError } from '../errors/errors.js';
import { maskPersonalData } from '../log/maskPersonalData.js';
import { type BatchFileName, parseBatchFileName } from '../package/batchFileName.js';
import { escapeControls } from '../system/escapeControls.js';
import type { AckDeps, EntryOutcome, ListedEntry, ReplyOutcome, ServerFolder } from './ingestReplies.js';
import { libraryProblem } from './libraryProblem.js';
import { recordSetAside } from './replyLedger.js';
import { replySettings, replyStanding } from './replyStanding.js';
import type { ReplyKind } from './replyXml.js';

/** The longest listed name that is read: a file system name holds 255 bytes, and a reply name is far shorter. */
export const MAX_LISTED_NAME_BYTES = 255;

// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Why a name a server lists cannot be a reply's and must not reach the ledger (a NUL byte, which
 * PostgreSQL text cannot hold; a control character; a name longer than any file system's), or
 * null when it may be read as a reply name.
 */
export function refusedNameReason(name: string): string | null {
  if (CONTROL.test(name)) return 'holds a control character, which no file name of the channel does';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_LISTED_NAME_BYTES) return `is ${bytes} bytes long, over the ${MAX_LISTED_NAME_BYTES} a file name may have`;
  return null;
}

/**
 * A listed name as it may be shown and recorded when it cannot be itself: its start (a person's
 * number masked, longer runs of digits counted, control characters escaped), then a hash of the
 * whole name, which tells one such name from another and finds it again on the next pass.
 */
export function shownListedName(name: string): string {
  const start = escapeControls(maskPersonalData(name).replace(/\d{12,}/g, (d) => `[${d.length} digits]`)).slice(0, 80);
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 16);
  return `${start}… [name refused, sha256 ${hash}]`;
}

/**
 * A value the ledger cannot hold (class 22, data exception: a NUL byte, an invalid encoding) or
 * beyond its limits (class 54: an index row too large): a fault of what a server gave, for that
 * one entry, not of the database.
 */
export function isRefusedValue(err: unknown): err is pg.DatabaseError {
  return err instanceof pg.DatabaseError && (err.code?.startsWith('22') === true || err.code?.startsWith('54') === true);
}

/**
 * Reads one listed entry, unless its name cannot be a reply's (a NUL byte, a control character,
 * longer than a file name): that one is set aside under a shown form (its masked start and a hash)
 * before its name reaches the ledger. A value of the entry that the ledger still refuses sets it
 * aside the same way: one entry never stops the others.
 */
export async function screenedEntry(deps: AckDeps, f: ServerFolder, entry: ListedEntry, read: () => Promise<EntryOutcome | null>): Promise<EntryOutcome | null> {
  const refused = refusedNameReason(entry.name);
  if (refused) return refusedName(deps, f, entry, `Its name ${refused}`);
  try {
    return await read();
  } catch (err) {
    if (!isRefusedValue(err)) throw err;
    return refusedName(deps, f, entry, `The ledger refuses a value of it (${libraryProblem(err.message, `PostgreSQL error ${err.code}`)})`);
  }
}

/** Records and reports a listed entry set aside under its shown form (never recorded again on later passes). */
async function refusedName(deps: AckDeps, f: ServerFolder, entry: ListedEntry, why: string): Promise<ReplyOutcome> {
  const shown = shownListedName(entry.name);
  const standing = await replyStanding(deps.ledger, f.server, { name: shown, size: entry.size, mtime: entry.mtime, companionListed: false, reread: false }, replySettings(deps));
  const reason = `${why}: a file listed in the reply folder ${f.server} (${f.folder}, of ${f.receivers.join(', ')}), shown here as ${shown}. It was not read and stays on the server; ask the receiver to remove it.`;
  // Known already: quiet, unless the operator asked to read it again, who learns why it cannot be.
  if (!standing.read) return deps.reread?.has(shown) ? { name: shown, result: 'set_aside', reason } : { name: shown, result: 'already-processed' };
  await recordSetAside(deps.ledger, { server: f.server, name: shown, at: deps.clock.now(), reason, body: null, fileName: null, listedBytes: entry.size });
  deps.logger.warn({ reply: shown, server: f.server, reason }, 'reply set aside');
  return { name: shown, result: 'set_aside', reason };
}

/** The sender of every reply: the channel operator (domain.md §2). */
const REPLY_SENDER = '999999';

/** A reply's name: FO or CO, ACRF or NOTI, from the channel operator. */
export type ReplyName = BatchFileName & { purpose: ReplyKind };

/** The name of a reply, validated (anything else is refused with the shape expected). */
export function parseReplyName(text: string): ReplyName {
  let n: BatchFileName;
  try {
    n = parseBatchFileName(text);
  } catch (err) {
    // The refusal repeats the name, which is anything a server lists: a person's number masked.
    throw new AckError(maskPersonalData((err as Error).message.slice(0, 300)), { cause: err });
  }
  if (n.kind !== 'FO' && n.kind !== 'CO') throw new AckError(`"${maskPersonalData(text.slice(0, 80))}" is not a reply file name`);
  // The name is a batch-channel one: its parts hold no run of 11 digits, so it may be shown.
  const notReply = `${text} is not a reply (a reply is named ${n.kind}.ACRF or ${n.kind}.NOTI, from sender ${REPLY_SENDER})`;
  if (n.purpose !== 'ACRF' && n.purpose !== 'NOTI') throw new AckError(`${notReply}: its purpose is ${n.purpose}, another flow's; it was not downloaded and stays on the server.`);
  if (n.sender !== REPLY_SENDER) throw new AckError(`${notReply}: its sender is ${n.sender}; it was not downloaded and stays on the server.`);
  return { ...n, purpose: n.purpose };
}
