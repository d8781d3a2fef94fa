import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** One file of a pack, as its manifest lists it. */
export interface ManifestEntry {
  path: string;
  bytes: number;
  sha256: string;
}

/** Read size of the copies: a large file moves in few, large chunks. */
const CHUNK = 1024 * 1024;

/**
 * Writes files into a pack folder, each streamed (a sent file of 820 MB is never held whole)
 * and hashed in the same pass; every file written is listed, in order, in `entries`.
 */
export interface PackWriter {
  readonly folder: string;
  readonly entries: ManifestEntry[];
  /** Copies a file into the pack under `rel` (0400). */
  copy(rel: string, from: string): Promise<ManifestEntry>;
  /**
   * Copies a file into the pack under `rel` (0400) only if its bytes have the sha256 `expected`:
   * otherwise the copy is removed and not listed. Returns what was read, and whether it was kept.
   */
  copyIfMatches(rel: string, from: string, expected: string): Promise<ManifestEntry & { kept: boolean }>;
  /** Writes a buffer, or text produced piece by piece, into the pack under `rel` (0400). */
  write(rel: string, content: Buffer | AsyncIterable<string>): Promise<ManifestEntry>;
}

export function createPackWriter(folder: string): PackWriter {
  const entries: ManifestEntry[] = [];
  // The source is opened only once the pipeline watches it: a file that cannot be opened fails the
  // copy, rather than erroring on a stream nobody listens to yet (an uncaught exception).
  const put = async (rel: string, source: () => Readable, keep: (e: ManifestEntry) => boolean = () => true): Promise<ManifestEntry & { kept: boolean }> => {
    const target = path.join(folder, rel);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const hashed = hashing();
    await pipeline(source(), hashed.stream, createWriteStream(target, { mode: 0o400, flags: 'wx' }));
    const entry = { path: rel, ...hashed.result() };
    // Hashed in the same pass as the copy: a copy that must not stay is removed once read.
    if (!keep(entry)) {
      await fs.rm(target);
      return { ...entry, kept: false };
    }
    entries.push(entry);
    return { ...entry, kept: true };
  };
  const read = (from: string) => (): Readable => createReadStream(from, { highWaterMark: CHUNK });
  return {
    folder,
    entries,
    copy: async (rel, from) => {
      const { kept: _k, ...entry } = await put(rel, read(from));
      return entry;
    },
    copyIfMatches: (rel, from, expected) => put(rel, read(from), (e) => e.sha256 === expected),
    write: async (rel, content) => {
      const { kept: _k, ...entry } = await put(rel, () => (Buffer.isBuffer(content) ? Readable.from([content]) : Readable.from(content)));
      return entry;
    },
  };
}

/** A pass-through that counts and hashes what flows through it. */
export function hashing(): { stream: Transform; result(): { bytes: number; sha256: string } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      hash.update(b);
      bytes += b.length;
      done(null, b);
    },
  });
  let sha256: string | undefined;
  return { stream, result: () => ({ bytes, sha256: (sha256 ??= hash.digest('hex')) }) };
}

/** A value as the JSON files of a pack hold it: indented, one trailing newline. */
export function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

/** Makes a written pack read-only: its folders 0500 (its files are 0400 already). */
export async function makeReadOnly(dir: string): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await makeReadOnly(path.join(dir, e.name));
  }
  await fs.chmod(dir, 0o500);
}
