import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { SFTPWrapper } from 'ssh2';

/**
 * Bytes of one SFTP READ or WRITE request: OpenSSH's largest (its `limits@openssh.com`
 * max-read-length and max-write-length, 256 KiB less 1 KiB). A server that allows less gets the
 * chunk split by ssh2 into requests it accepts.
 */
export const TRANSFER_CHUNK = 255 * 1024;
/** Requests in flight at once: each round trip is hidden behind the others (16 × 255 KiB ≈ 4 MiB held). */
export const TRANSFER_DEPTH = 16;

/** What a transfer moved: its length, bytes, and the sha256 of exactly those bytes (hex). */
export interface TransferResult {
  bytes: number;
  sha256: string;
}

const noop = (): void => undefined;

/**
 * Uploads a local file to `remote` (created or truncated), reading it once, in order: each chunk
 * is hashed as it is read and written with up to TRANSFER_DEPTH writes in flight. The hash is of
 * the bytes sent, so the caller compares it with the ledger's instead of reading the file twice.
 * `progress` is called each time a write is acknowledged (the stall timeout is reset there).
 */
export async function putHashed(sftp: SFTPWrapper, local: string, remote: string, progress: () => void): Promise<TransferResult> {
  const file = await fs.open(local, 'r');
  try {
    const handle = await call<Buffer>((cb) => sftp.open(remote, 'w', cb));
    const hash = createHash('sha256');
    const writes: Promise<void>[] = [];
    // TRANSFER_DEPTH buffers in turn: the one read into next was last written by the write awaited
    // just before (the oldest of those in flight), so it is free again.
    const buffers: Buffer[] = [];
    let position = 0;
    try {
      for (let n = 0; ; n++) {
        const chunk = (buffers[n % TRANSFER_DEPTH] ??= Buffer.allocUnsafe(TRANSFER_CHUNK));
        const { bytesRead } = await file.read(chunk, 0, TRANSFER_CHUNK, position);
        if (bytesRead === 0) break;
        const data = chunk.subarray(0, bytesRead);
        hash.update(data);
        const write = call<void>((cb) => sftp.write(handle, data, 0, data.length, position, (err) => cb(err)));
        write.catch(noop); // awaited below, in order; a failure further on must not be unhandled meanwhile
        writes.push(write);
        position += bytesRead;
        if (writes.length >= TRANSFER_DEPTH) {
          await writes.shift();
          progress();
        }
      }
      for (const write of writes.splice(0)) {
        await write;
        progress();
      }
    } finally {
      // Closing waits for the writes still in flight; on an error their outcome no longer matters.
      await Promise.allSettled(writes);
      await call<void>((cb) => sftp.close(handle, (err) => cb(err))).catch(noop);
    }
    return { bytes: position, sha256: hash.digest('hex') };
  } finally {
    await file.close();
  }
}

/**
 * Reads a remote file whole and hashes it, with up to TRANSFER_DEPTH reads in flight (one read
 * at a time waits a round trip per 64 KiB: an 820 MB file took minutes). Chunks are hashed in
 * order; at most TRANSFER_DEPTH chunks are held. `progress` is called per chunk hashed.
 */
export async function readHashed(sftp: SFTPWrapper, remote: string, progress: () => void): Promise<TransferResult> {
  const handle = await call<Buffer>((cb) => sftp.open(remote, 'r', cb));
  const reads = new Map<number, Promise<Buffer>>();
  try {
    const size = (await call<{ size?: number }>((cb) => sftp.fstat(handle, cb))).size ?? 0;
    const hash = createHash('sha256');
    let next = 0;
    let hashed = 0;
    while (hashed < size) {
      while (next < size && next - hashed < TRANSFER_DEPTH * TRANSFER_CHUNK) {
        const read = readFully(sftp, handle, next, Math.min(TRANSFER_CHUNK, size - next));
        read.catch(noop);
        reads.set(next, read);
        next += TRANSFER_CHUNK;
      }
      const head = reads.get(hashed)!;
      reads.delete(hashed);
      const data = await head;
      hash.update(data);
      hashed += data.length;
      progress();
    }
    return { bytes: size, sha256: hash.digest('hex') };
  } finally {
    await Promise.allSettled(reads.values());
    await call<void>((cb) => sftp.close(handle, (err) => cb(err))).catch(noop);
  }
}

/** Reads exactly `length` bytes at `position` (a server may answer a read with fewer). */
async function readFully(sftp: SFTPWrapper, handle: Buffer, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = await call<number>((cb) => sftp.read(handle, buffer, got, length - got, position + got, (err, bytesRead) => cb(err, bytesRead)));
    if (n === 0) throw new Error(`the file ended at ${position + got} bytes while it was being read`);
    got += n;
  }
  return buffer;
}

function call<T>(start: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value as T))));
}
