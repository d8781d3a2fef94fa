import { createReadStream } from 'node:fs';
import readline from 'node:readline';
import { OutboxError } from '../errors/errors.js';
import type { LocalDate } from '../period/localDate.js';
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

/** How one extracted record is sent in a correction: not at all, as an original, or replacing an earlier one. */
export function classify(c: Correction, sourceKey: string, hash: string): { send: false } | { send: true; status: 0 | 2; attestationId: string | null } {
  c.seen.add(sourceKey);
  const before = c.previous.records.get(sourceKey);
  if (!before) {
    c.plan.added.push(sourceKey);
    return { send: true, status: 0, attestationId: null };
  }
  if (before.hash === hash) {
    c.plan.unchanged++;
    if (!c.resendAll) return { send: false };
  } else c.plan.changed.push(sourceKey);
  return { send: true, status: 2, attestationId: before.attestationId };
}

/** The records sent before and absent now, with where their last version is. */
export function vanished(c: Correction): [string, SentRecord][] {
  const gone = [...c.previous.records.entries()].filter(([k]) => !c.seen.has(k));
  c.plan.vanished = gone.map(([k]) => k);
  return gone;
}

/**
 * Reads the record lines of earlier files (one record per line, starting with `<Attestation>`)
 * at the given 1-based positions, streaming each file once.
 */
export async function readRecordLines(items: readonly { filePath: string; position: number }[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const byFile = new Map<string, Set<number>>();
  for (const i of items) byFile.set(i.filePath, (byFile.get(i.filePath) ?? new Set()).add(i.position));
  for (const [file, positions] of byFile) {
    let n = 0;
    try {
      for await (const line of readline.createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
        if (!line.startsWith('<Attestation>')) continue;
        n++;
        if (positions.has(n)) out.set(`${file}#${n}`, line);
      }
    } catch (err) {
      throw new OutboxError(`The earlier file ${file} is needed to cancel its records and cannot be read: ${(err as Error).message}. Restore it from the evidence pack, or rerun with --full.`, { cause: err });
    }
  }
  return out;
}

/** Turns an earlier record line into its cancellation: status 1, today's creation date. */
export function toCancellation(line: string, creationDate: LocalDate): string {
  return line
    .replace(/<AttestationStatus>\d<\/AttestationStatus>/, '<AttestationStatus>1</AttestationStatus>')
    .replace(/<CreationDate>[^<]*<\/CreationDate>/, `<CreationDate>${creationDate}</CreationDate>`);
}
