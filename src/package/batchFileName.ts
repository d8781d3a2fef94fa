import type { Environment } from '../domain/environment.js';
import { isLocalDate, type LocalDate } from '../period/localDate.js';

/** Kinds of files on the batch channel: FI data, FS signature, GO start, TD cancel; FO/CO received. */
export type FileKind = 'FI' | 'FS' | 'GO' | 'TD' | 'FO' | 'CO';

/**
 * A batch-channel file name, e.g. `FI.CARR.012345.20261005.00001.R.1.1`:
 * kind.purpose.sender.date.sequence.environment[.parts[.part]].
 */
export interface BatchFileName {
  kind: FileKind;
  /** 4 characters, e.g. CARR. */
  purpose: string;
  /** 6 digits. */
  sender: string;
  /** Creation date. */
  date: LocalDate;
  /** 5 alphanumerics, unique per sender, date and environment. */
  sequence: string;
  environment: Environment;
  /** Number of parts of the submission (FI, FS, GO, TD). */
  parts?: number;
  /** Part number, 1-based (FI, FS). */
  part?: number;
}

/** Formats a name; FI/FS carry parts and part number, GO/TD the part count only, FO/CO neither. */
export function formatBatchFileName(n: BatchFileName): string {
  const stem = [n.kind, n.purpose, n.sender, n.date.replace(/-/g, ''), n.sequence, n.environment];
  if (n.kind === 'FI' || n.kind === 'FS') return [...stem, n.parts ?? 1, n.part ?? 1].join('.');
  if (n.kind === 'GO' || n.kind === 'TD') return [...stem, n.parts ?? 1].join('.');
  return stem.join('.');
}

const NAME = /^(FI|FS|GO|TD|FO|CO)\.([A-Z0-9]{4})\.(\d{6})\.(\d{8})\.([A-Z0-9]{5})\.([RTS])(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?$/;

/** Parses a batch-channel file name; throws with the expected shape. */
export function parseBatchFileName(text: string): BatchFileName {
  const m = NAME.exec(text);
  const date = m ? `${m[4]!.slice(0, 4)}-${m[4]!.slice(4, 6)}-${m[4]!.slice(6)}` : '';
  if (!m || !isLocalDate(date)) {
    throw new Error(`"${text}" is not a batch-channel file name (kind.PURP.sender.YYYYMMDD.seq.env[.parts.part])`);
  }
  const name: BatchFileName = {
    kind: m[1] as FileKind,
    purpose: m[2]!,
    sender: m[3]!,
    date: date as LocalDate,
    sequence: m[5]!,
    environment: m[6] as Environment,
  };
  if (m[7] !== undefined) name.parts = Number(m[7]);
  if (m[8] !== undefined) name.part = Number(m[8]);
  return name;
}

const BASE36 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * The 5-character sequence for the n-th submission of a day (n ≥ 1): 00001…99999, then
 * alphanumeric values starting with a letter (A0000, A0001, …) so they never collide with
 * the numeric ones. [our choice: the channel only says it "switches to alphanumeric values"]
 */
export function formatSequence(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new Error(`sequence numbers start at 1, got ${n}`);
  if (n <= 99_999) return String(n).padStart(5, '0');
  let m = n - 100_000;
  const letters = 26 * 36 ** 4;
  if (m >= letters) throw new Error('more than 43 million submissions on one day: the sequence space is exhausted');
  const first = BASE36[10 + Math.floor(m / 36 ** 4)]!;
  m %= 36 ** 4;
  let rest = '';
  for (let i = 0; i < 4; i++) {
    rest = BASE36[m % 36]! + rest;
    m = Math.floor(m / 36);
  }
  return first + rest;
}
