import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { OutboxError } from '../errors/errors.js';
import type { PreviousVersion, SentRecord } from './previousVersion.js';

/** What a rerun changes compared with what the receivers hold. */
export interface CorrectionPlan {
  /** Source keys sent for the first time (originals). */
  added: string[];
  /** Source keys whose record changed (replacements). */
  changed: string[];
  /** Source keys that are gone (cancellations). */
  vanished: string[];
  unchanged: number;
}

/** A rerun in progress: the previous version and how to treat unchanged records. */
export interface Correction {
  previous: PreviousVersion;
  /** Version number of this run (1 for the first correction). */
  version: number;
  /** Send every record again (unchanged ones as replacements too). */
  resendAll: boolean;
  /** Vanished records are sent as cancellations (flows whose files are replaced whole do not). */
  cancelVanished: boolean;
  plan: CorrectionPlan;
  seen: Set<string>;
}

/** Starts a correction against a previous version. */
export function startCorrection(previous: PreviousVersion, resendAll: boolean, cancelVanished: boolean): Correction {
  return { previous, version: previous.versions, resendAll, cancelVanished, plan: { added: [], changed: [], vanished: [], unchanged: 0 }, seen: new Set() };
}

/** How one extracted record of a correction is sent: not at all (unchanged), as an original, or replacing an earlier one. */
export type Decision = { send: false; status: 0; attestationId: string } | { send: true; status: 0 | 2; attestationId: string | null };

/** Decides how a record is sent (`hash`: of the record as rendered from the dossier now); changes nothing. */
export function decide(c: Correction, sourceKey: string, hash: string): Decision {
  const before = c.previous.records.get(sourceKey);
  if (!before) return { send: true, status: 0, attestationId: null };
  if (before.hash === hash && !c.resendAll) return { send: false, status: 0, attestationId: before.attestationId };
  return { send: true, status: 2, attestationId: before.attestationId };
}

/**
 * Counts a record as present in this version (emitted or unchanged). A record quarantined now is
 * not: like a record gone from the dossier, it is cancelled at the receiver.
 */
export function note(c: Correction, sourceKey: string, hash: string): void {
  c.seen.add(sourceKey);
  const before = c.previous.records.get(sourceKey);
  if (!before) c.plan.added.push(sourceKey);
  else if (before.hash === hash) c.plan.unchanged++;
  else c.plan.changed.push(sourceKey);
}

/** The records sent before and absent now, with where their last version is. */
export function vanished(c: Correction): [string, SentRecord][] {
  const gone = [...c.previous.records.entries()].filter(([k]) => !c.seen.has(k));
  c.plan.vanished = gone.map(([k]) => k);
  return gone;
}

/**
 * The content of earlier records, as the engine kept it for their cancellation: the bytes the
 * lineage locates (offset and length of the flow's content in the file), read from each earlier
 * file in one pass that also checks the file is the one the ledger recorded (its sha256).
 * Keyed by source key. No record is parsed: the engine wraps the content again with its own
 * identification.
 */
export async function readSentContents(gone: readonly [string, SentRecord][]): Promise<Map<string, string>> {
  const byFile = new Map<string, [string, SentRecord][]>();
  for (const [key, r] of gone) {
    if (r.contentOffset === null || r.contentBytes === null) {
      throw new OutboxError(
        `The record of ${key} (AttestationID ${r.attestationId}) in ${r.filePath} was sent by a version of maillon that did not keep where each ` +
          "record's content is (before ledger migration 070), so maillon cannot build its cancellation: cancel it with the receiver by hand.",
      );
    }
    const inFile = byFile.get(r.filePath);
    if (inFile) inFile.push([key, r]);
    else byFile.set(r.filePath, [[key, r]]);
  }
  const out = new Map<string, string>();
  for (const [file, items] of byFile) {
    const ranges = items.map(([key, r]) => ({ key, start: r.contentOffset!, end: r.contentOffset! + r.contentBytes!, bytes: Buffer.alloc(r.contentBytes!) }));
    const sha256 = await readRanges(file, ranges);
    if (sha256 !== items[0]![1].fileSha256) {
      throw new OutboxError(`The earlier file ${file} is not the one that was sent (its sha256 differs from the ledger's), so its records cannot be cancelled from it. Restore it from the evidence pack, then run again.`);
    }
    for (const r of ranges) out.set(r.key, r.bytes.toString('utf8'));
  }
  return out;
}

/**
 * Streams a file once: copies the byte ranges (which do not overlap) into their buffers and
 * returns the file's sha256. Ranges are taken in file order, each chunk looking only at those it
 * reaches.
 */
async function readRanges(file: string, ranges: { start: number; end: number; bytes: Buffer }[]): Promise<string> {
  const hash = createHash('sha256');
  const ordered = [...ranges].sort((a, b) => a.start - b.start);
  let first = 0;
  let at = 0;
  try {
    for await (const data of createReadStream(file, { highWaterMark: 1 << 20 })) {
      const chunk = data as Buffer;
      hash.update(chunk);
      const end = at + chunk.length;
      while (first < ordered.length && ordered[first]!.end <= at) first++;
      for (let i = first; i < ordered.length && ordered[i]!.start < end; i++) {
        const r = ordered[i]!;
        const from = Math.max(r.start, at);
        chunk.copy(r.bytes, from - r.start, from - at, Math.min(r.end, end) - at);
      }
      at = end;
    }
  } catch (err) {
    throw new OutboxError(`The earlier file ${file} is needed to cancel its records and cannot be read: ${(err as Error).message}. Restore it from the evidence pack, then run again.`, { cause: err });
  }
  return hash.digest('hex');
}
