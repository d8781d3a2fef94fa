import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { OutboxError } from '../errors/errors.js';
import { byteOrderLess } from './pipelineContracts.js';
import type { HeldRecord, PreviousVersion, SentRecord } from './previousVersion.js';

/** What a rerun changes compared with what the receivers hold. */
export interface CorrectionPlan {
  /** Source keys sent for the first time (originals). */
  added: string[];
  /** Source keys whose record changed (replacements). */
  changed: string[];
  /** Source keys that are gone (cancellations). */
  vanished: string[];
  unchanged: number;
  /**
   * Source keys whose receiver changed (an insurer code corrected, an affiliate who changed
   * insurer), as `key (old → new)`: each is also in `vanished` (cancelled at the receiver that
   * holds it) and in `added` (an original, under a new AttestationID, to the new receiver).
   */
  moved: string[];
  /**
   * Source keys held by receivers that keep each record until it is cancelled, and quarantined
   * now: neither corrected nor cancelled, the receiver keeps the version it holds until the
   * dossier is corrected (counted among the quarantined, not among the vanished).
   */
  kept: string[];
}

/**
 * A rerun in progress: the previous version and how to treat unchanged records. The previous
 * version is read as a stream in source-key order and merged with the extraction (in the same
 * order): only the current batch of it is held, and the records that vanished (to cancel).
 */
export interface Correction {
  previous: PreviousVersion;
  /** Version number of this run (1 for the first correction). */
  version: number;
  /** Send every record again (unchanged ones as replacements too). */
  resendAll: boolean;
  /** Vanished records are sent as cancellations (flows whose files are replaced whole do not). */
  cancelVanished: boolean;
  plan: CorrectionPlan;
  merge: HeldMerge;
  /** The fingerprint of the plan: every record's key, fate and content, in order (see `fingerprint`). */
  digest: Hash;
}

/** Where the merge is in the stream of held records. */
interface HeldMerge {
  open: () => AsyncGenerator<HeldRecord[]>;
  stream: AsyncGenerator<HeldRecord[]> | null;
  batch: HeldRecord[];
  at: number;
  done: boolean;
  /** Held records absent from this version (gone from the dossier; quarantined now in a flow replaced whole), in key order. */
  gone: [string, SentRecord][];
}

/** Starts a correction against a previous version. */
export function startCorrection(previous: PreviousVersion, resendAll: boolean, cancelVanished: boolean): Correction {
  return {
    previous,
    version: previous.versions,
    resendAll,
    cancelVanished,
    plan: { added: [], changed: [], vanished: [], unchanged: 0, moved: [], kept: [] },
    merge: { open: () => previous.held(), stream: null, batch: [], at: 0, done: false, gone: [] },
    digest: createHash('sha256'),
  };
}

/**
 * What the receivers hold of the extracted record `key` (null: nothing), keys coming in strictly
 * increasing byte order: every held key before it is absent from this version and set aside as
 * vanished. A promise only when the next batch of the previous version must be read.
 */
export function heldFor(c: Correction, key: string): SentRecord | null | Promise<SentRecord | null> {
  const m = c.merge;
  for (;;) {
    if (m.at >= m.batch.length) {
      if (m.done) return null;
      return nextBatch(m).then(() => heldFor(c, key));
    }
    const h = m.batch[m.at]!;
    if (h.key === key) {
      m.at++;
      return h;
    }
    if (byteOrderLess(key, h.key)) return null;
    m.gone.push([h.key, h]);
    m.at++;
  }
}

async function nextBatch(m: HeldMerge): Promise<void> {
  m.stream ??= m.open();
  const next = await m.stream.next();
  m.at = 0;
  if (next.done) {
    m.batch = [];
    m.done = true;
  } else m.batch = next.value;
}

/**
 * How one extracted record of a correction is sent: not at all (unchanged), as an original, or
 * replacing an earlier one. `moved`: the receiver that holds it is not the one it goes to now.
 */
export type Decision =
  | { send: false; status: 0; attestationId: string; moved?: undefined }
  | { send: true; status: 0 | 2; attestationId: string | null; moved?: undefined }
  | { send: true; status: 0; attestationId: null; moved: SentRecord };

/**
 * Decides how a record is sent (`before`: what the receivers hold of it; `hash`: of the record as
 * rendered from the dossier now; `receiver`: where it goes now); changes nothing. A record whose
 * receiver changed is new to its new receiver: an original under a new AttestationID (a
 * replacement there would replace what it never received), and it is cancelled at the receiver
 * that holds it (see `moveAway`), in flows that cancel records.
 */
export function decide(c: Correction, before: SentRecord | null, hash: string, receiver: string): Decision {
  if (!before) return { send: true, status: 0, attestationId: null };
  if (c.cancelVanished && before.receiver !== receiver) return { send: true, status: 0, attestationId: null, moved: before };
  if (before.hash === hash && !c.resendAll) return { send: false, status: 0, attestationId: before.attestationId };
  return { send: true, status: 2, attestationId: before.attestationId };
}

/** Counts a record as present in this version (emitted or unchanged). */
export function note(c: Correction, sourceKey: string, before: SentRecord | null, hash: string): void {
  if (!before) c.plan.added.push(sourceKey);
  else if (before.hash === hash) c.plan.unchanged++;
  else c.plan.changed.push(sourceKey);
}

/**
 * A record sent now to another receiver than the one that holds it (`decide`'s `moved`): it is
 * cancelled at the old receiver like a record gone from the dossier, and counted as new.
 */
export function moveAway(c: Correction, sourceKey: string, held: SentRecord, receiver: string): void {
  c.merge.gone.push([sourceKey, held]);
  c.plan.added.push(sourceKey);
  c.plan.moved.push(`${sourceKey} (${held.receiver} → ${receiver})`);
}

/**
 * A record quarantined now, which is never sent. When the receivers hold an earlier version and
 * keep each record until it is cancelled, it is not cancelled either: the person may still be
 * due it (a surname too long, a country without a code), so the receiver keeps the version it
 * holds until the dossier is corrected (`plan.kept`; the next rerun still knows that version).
 * Only a flow whose file is replaced whole leaves it out, like a record gone from the dossier.
 */
export function setAside(c: Correction, sourceKey: string, before: SentRecord | null): void {
  if (!before) return;
  if (c.cancelVanished) c.plan.kept.push(sourceKey);
  else c.merge.gone.push([sourceKey, before]);
}

/**
 * The records sent before and absent now, with where their last version is: those set aside
 * during the merge and the rest of the previous version after the last extracted key. They come
 * in key order by construction (the merge visits keys in increasing order).
 */
export async function vanished(c: Correction): Promise<[string, SentRecord][]> {
  const m = c.merge;
  for (;;) {
    for (; m.at < m.batch.length; m.at++) m.gone.push([m.batch[m.at]!.key, m.batch[m.at]!]);
    if (m.done) break;
    await nextBatch(m);
  }
  c.plan.vanished = m.gone.map(([k]) => k);
  return m.gone;
}

/**
 * Adds one record's fate to the plan's fingerprint (`fate`: emitted with its status, unchanged,
 * quarantined with its rule; `detail`: its AttestationID and hash, or its rule). Two computations
 * of a rerun have the same fingerprint exactly when they send the same records with the same
 * content under the same ids: the run that follows a confirmed plan compares it with the plan's.
 */
export function fingerprint(c: Correction, sourceKey: string, fate: string, detail: string): void {
  c.digest.update(`${sourceKey}\t${fate}\t${detail}\n`);
}

/** The plan's fingerprint, once the render is over (the records left out included). */
export function planDigest(c: Correction): string {
  for (const key of c.plan.vanished) c.digest.update(`${key}\tvanished\n`);
  for (const key of c.plan.kept) c.digest.update(`${key}\tkept\n`);
  return c.digest.digest('hex');
}

/** Stops reading the previous version (a run that fails): its connection is released. */
export async function closeCorrection(c: Correction): Promise<void> {
  await c.merge.stream?.return(undefined).catch(() => undefined);
}

/**
 * The content of earlier records, as the engine kept it for their cancellation: the bytes the
 * lineage locates (offset and length of the flow's content in the file), read from each earlier
 * file in one pass that also checks the file is the one the ledger recorded (its sha256).
 * Keyed by source key. `keptSince`: from which version the flow's records have their content
 * kept (named in the refusal of a record sent before). No record is parsed here.
 */
export async function readSentContents(gone: readonly [string, SentRecord][], keptSince = 'ledger migration 070'): Promise<Map<string, string>> {
  const byFile = new Map<string, [string, SentRecord][]>();
  for (const [key, r] of gone) {
    if (r.contentOffset === null || r.contentBytes === null) {
      throw new OutboxError(
        `The record of ${key} (AttestationID ${r.attestationId}) in ${r.filePath} was sent by a version of maillon that did not keep where each ` +
          `record's content is (before ${keptSince}), so maillon cannot build its cancellation: cancel it with the receiver by hand.`,
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
      throw new OutboxError(
        `The earlier file ${file} is not the one that was sent (its sha256 differs from the ledger's), so its records cannot be cancelled from it. Restore it from the evidence pack, then run again.`,
      );
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
