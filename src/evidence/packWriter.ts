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
  /** Writes a buffer, or text produced piece by piece, into the pack under `rel` (0400). */
  write(rel: string, content: Buffer | AsyncIterable<string>): Promise<ManifestEntry>;
}

export function createPackWriter(folder: string): PackWriter {
  const entries: ManifestEntry[] = [];
  const put = async (rel: string, source: Readable): Promise<ManifestEntry> => {
    const target = path.join(folder, rel);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const hashed = hashing();
    await pipeline(source, hashed.stream, createWriteStream(target, { mode: 0o400, flags: 'wx' }));
    const entry = { path: rel, ...hashed.result() };
    entries.push(entry);
    return entry;
  };
  return {
    folder,
    entries,
    copy: (rel, from) => put(rel, createReadStream(from, { highWaterMark: CHUNK })),
    write: (rel, content) => put(rel, Buffer.isBuffer(content) ? Readable.from([content]) : Readable.from(content)),
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
