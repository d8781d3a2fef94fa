import { createHash } from 'node:crypto';
import pg from 'pg';
import { maskPersonalData } from '../log/maskPersonalData.js';
import { escapeControls } from '../system/escapeControls.js';

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
