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
  /** Source keys that are gone (cancellations): one per copy cancelled, so a key held by two receivers is listed twice. */
  vanished: string[];
  unchanged: number;
  /**
   * Source keys whose receiver changed (an insurer code corrected, an affiliate who changed
   * insurer), as `key (old → new)`, one per copy cancelled at an old receiver: each is also in
   * `vanished` (cancelled at the receiver that holds it) and, unless the new receiver already
   * holds a copy, in `added` (an original, under a new AttestationID, to the new receiver). An
   * earlier move whose cancellation did not take (rejected, cancelled, refused) is cancelled again
   * this way: the key stays where it went (unchanged, changed, or kept when quarantined now).
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
export function heldFor(c: Correction, key: string): HeldRecord | null | Promise<HeldRecord | null> {
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
    leaveOut(c, h);
    m.at++;
  }
}

/**
 * A held key absent from this version: every copy is cancelled (or, in a flow replaced whole, the
 * copy held last is left out of the new file).
 */
function leaveOut(c: Correction, h: HeldRecord): void {
  c.merge.gone.push([h.key, h]);
  if (c.cancelVanished) for (const other of h.alsoHeldAt) c.merge.gone.push([h.key, other]);
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
 * replacing an earlier one. `held`: the copy it is compared with (held by the receiver it goes
 * to now; null when that receiver holds none); `elsewhere`: the copies held by other receivers,
 * each cancelled there (see `moveAway`).
 */
export type Decision =
  | { send: false; status: 0; attestationId: string; held: SentRecord; elsewhere: readonly SentRecord[] }
  | { send: true; status: 0 | 2; attestationId: string | null; held: SentRecord | null; elsewhere: readonly SentRecord[] };

/**
 * Decides how a record is sent (`before`: what the receivers hold of it; `hash`: of the record as
 * rendered from the dossier now; `receiver`: where it goes now); changes nothing. In flows that
 * cancel records, a record is compared with the copy held by the receiver it goes to now, and
 * every copy held elsewhere is cancelled: a record whose receiver changed is new to its new
 * receiver, an original under a new AttestationID (a replacement there would replace what it
 * never received). A flow replaced whole compares with the copy held last, wherever it is.
 */
export function decide(c: Correction, before: HeldRecord | null, hash: string, receiver: string): Decision {
  if (!before) return { send: true, status: 0, attestationId: null, held: null, elsewhere: NONE };
  const { held, elsewhere } = c.cancelVanished ? copiesFor(before, receiver) : { held: before, elsewhere: NONE };
  if (!held) return { send: true, status: 0, attestationId: null, held: null, elsewhere };
  if (held.hash === hash && !c.resendAll) return { send: false, status: 0, attestationId: held.attestationId, held, elsewhere };
  return { send: true, status: 2, attestationId: held.attestationId, held, elsewhere };
}

const NONE: readonly SentRecord[] = Object.freeze([]);

/** The copy of a key that `receiver` holds (null: none), and those other receivers hold. */
function copiesFor(before: HeldRecord, receiver: string): { held: SentRecord | null; elsewhere: readonly SentRecord[] } {
  // Most keys have one copy: no array is made for them when it stays where it is.
  if (before.alsoHeldAt.length === 0) return before.receiver === receiver ? { held: before, elsewhere: NONE } : { held: null, elsewhere: [before] };
  const copies = [before, ...before.alsoHeldAt];
  return { held: copies.find((r) => r.receiver === receiver) ?? null, elsewhere: copies.filter((r) => r.receiver !== receiver) };
}

/**
 * Counts a record as present in this version (emitted or unchanged), compared with `held` (see
 * `decide`): new when its receiver holds no copy.
 */
export function note(c: Correction, sourceKey: string, held: SentRecord | null, hash: string): void {
  if (!held) c.plan.added.push(sourceKey);
  else if (held.hash === hash) c.plan.unchanged++;
  else c.plan.changed.push(sourceKey);
}

/**
 * The copies of a record held by other receivers than `receiver`, the one that has it now
 * (`decide`'s `elsewhere`): each is cancelled at its receiver like a record gone from the
 * dossier, and listed as moved.
 */
export function moveAway(c: Correction, sourceKey: string, elsewhere: readonly SentRecord[], receiver: string): void {
  for (const held of elsewhere) {
    c.merge.gone.push([sourceKey, held]);
    c.plan.moved.push(`${sourceKey} (${held.receiver} → ${receiver})`);
  }
}

/**
 * A record quarantined now, which is never sent. When the receivers hold an earlier version and
 * keep each record until it is cancelled, it is not cancelled either: the person may still be
 * due it (a surname too long, a country without a code), so the receiver keeps the version it
 * holds last until the dossier is corrected (`plan.kept`; the next rerun still knows that
 * version). Its copies still held at other receivers are cancelled, as the move that left them
 * there intended (see `moveAway`). Only a flow whose file is replaced whole leaves it out, like a
 * record gone from the dossier.
 */
export function setAside(c: Correction, sourceKey: string, before: HeldRecord | null): void {
  if (!before) return;
  if (!c.cancelVanished) {
    c.merge.gone.push([sourceKey, before]);
    return;
  }
  c.plan.kept.push(sourceKey);
  moveAway(c, sourceKey, before.alsoHeldAt, before.receiver);
}

/**
 * The records sent before and absent now, with where their last version is: those set aside
 * during the merge (copies moved away included) and the rest of the previous version after the
 * last extracted key, one entry per copy to cancel. They come in key order by construction (the
 * merge visits keys in increasing order); a key held by two receivers comes twice.
 */
export async function vanished(c: Correction): Promise<[string, SentRecord][]> {
  const m = c.merge;
  for (;;) {
    for (; m.at < m.batch.length; m.at++) leaveOut(c, m.batch[m.at]!);
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
 * In the order of `gone` (a key held by two receivers has two contents). `keptSince`: from which
 * version the flow's records have their content kept (named in the refusal of a record sent
 * before). No record is parsed here.
 */
export async function readSentContents(gone: readonly [string, SentRecord][], keptSince = 'ledger migration 070'): Promise<string[]> {
  const byFile = new Map<string, number[]>();
  for (const [i, [key, r]] of gone.entries()) {
    if (r.contentOffset === null || r.contentBytes === null) {
      throw new OutboxError(
        `The record of ${key} (AttestationID ${r.attestationId}) in ${r.filePath} was sent by a version of maillon that did not keep where each ` +
          `record's content is (before ${keptSince}), so maillon cannot build its cancellation: cancel it with the receiver by hand.`,
      );
    }
    const inFile = byFile.get(r.filePath);
    if (inFile) inFile.push(i);
    else byFile.set(r.filePath, [i]);
  }
  const out = new Array<string>(gone.length);
  for (const [file, items] of byFile) {
    const ranges = items.map((i) => {
      const r = gone[i]![1];
      return { i, start: r.contentOffset!, end: r.contentOffset! + r.contentBytes!, bytes: Buffer.alloc(r.contentBytes!) };
    });
    const sha256 = await readRanges(file, ranges);
    if (sha256 !== gone[items[0]!]![1].fileSha256) {
      throw new OutboxError(
        `The earlier file ${file} is not the one that was sent (its sha256 differs from the ledger's), so its records cannot be cancelled from it. Restore it from the evidence pack, then run again.`,
      );
    }
    for (const r of ranges) out[r.i] = r.bytes.toString('utf8');
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
