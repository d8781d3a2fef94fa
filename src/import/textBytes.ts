import { isUtf8 } from 'node:buffer';

/**
 * What dossier text may hold (docs/dossier-text.md): UTF-8, and every character XML 1.0 can
 * carry. Refused, and named: bytes that are not UTF-8, NUL and the other control characters but
 * tab, line feed and carriage return, and the noncharacters U+FFFE and U+FFFF. (A surrogate on
 * its own cannot be written in UTF-8: it is invalid UTF-8.) Nothing is replaced or dropped.
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// eslint-disable-next-line no-control-regex
const NOT_ASCII = /[^\u0000-\u007F]/;

/** Why a decoded field cannot be taken (a character XML cannot carry), or null. */
export function forbiddenCharacterProblem(value: string): string | null {
  const m = FORBIDDEN.exec(value);
  if (!m) return null;
  const code = m[0].charCodeAt(0);
  const what =
    code === 0 ? 'a NUL byte (U+0000)' : code >= 0xfffe ? `the noncharacter U+${code.toString(16).toUpperCase()}` : `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `holds ${what} at character ${[...value.slice(0, m.index)].length + 1}, which the contract does not allow in text (XML cannot carry it): remove it in the source system`;
}

/**
 * A field as csv-parse read it in latin1 (one character per byte, nothing replaced), decoded as
 * UTF-8; or why it is not UTF-8, with the bytes at fault.
 */
export function decodeField(latin1: string): { text: string; problem: null } | { text: null; problem: string } {
  if (!NOT_ASCII.test(latin1)) return { text: latin1, problem: null };
  const bytes = Buffer.from(latin1, 'latin1');
  if (isUtf8(bytes)) return { text: bytes.toString('utf8'), problem: null };
  const at = firstInvalid(bytes);
  const shown = [...bytes.subarray(at, at + 4)].map((b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');
  return { text: null, problem: `is not valid UTF-8 at byte ${at + 1} of the field (${shown}): export the file as UTF-8` };
}

/** The index of the first byte that does not start a valid UTF-8 character of `bytes` (which is not valid UTF-8). */
function firstInvalid(bytes: Buffer): number {
  for (let at = 0; at < bytes.length;) {
    const b = bytes[at]!;
    const need = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (need === 0 || !isUtf8(bytes.subarray(at, at + need)) || at + need > bytes.length) return at;
    at += need;
  }
  return bytes.length;
}

/** A streaming check of a file's bytes: valid UTF-8, without NUL, U+FFFE or U+FFFF. */
export interface ByteCheck {
  write(chunk: Buffer): void;
  /** What is wrong with the bytes written so far, or null. */
  found(): string | null;
  /** What is wrong with the file's bytes (all written), or null. */
  end(): string | null;
}

const FFFE = Buffer.from([0xef, 0xbf, 0xbe]);
const FFFF = Buffer.from([0xef, 0xbf, 0xbf]);

/**
 * The bulk import's check of what PostgreSQL would take, or refuse without naming a line: every
 * chunk is validated as UTF-8 natively (`buffer.isUtf8`, at memory speed), up to the last whole
 * character (the rest waits for the next chunk), and searched (natively too) for NUL, and for
 * U+FFFE and U+FFFF, which are valid UTF-8 but not XML. The other control characters XML forbids
 * are refused by the record format (src/import/recordFormat.ts), which reads every byte anyway.
 */
export function createByteCheck(): ByteCheck {
  let carry: Buffer | null = null;
  let read = 0;
  let problem: string | null = null;
  return {
    write(chunk) {
      if (problem !== null) return;
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      const cut = wholeCharacters(data);
      const whole = data.subarray(0, cut);
      if (!isUtf8(whole)) problem = `bytes that are not UTF-8 after byte ${read}`;
      else if (whole.indexOf(0) !== -1) problem = `a NUL byte (byte ${read + whole.indexOf(0) + 1})`;
      else if (whole.indexOf(FFFE) !== -1 || whole.indexOf(FFFF) !== -1) problem = 'the noncharacter U+FFFE or U+FFFF, which XML cannot carry';
      carry = cut < data.length ? Buffer.from(data.subarray(cut)) : null;
      read += cut;
    },
    found: () => problem,
    end() {
      if (problem === null && carry !== null) problem = 'a UTF-8 character cut short at the end of the file';
      return problem;
    },
  };
}

/** The length of the start of `b` that ends with a whole UTF-8 character (a character cut at the end is left out). */
function wholeCharacters(b: Buffer): number {
  const n = b.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const byte = b[n - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}
