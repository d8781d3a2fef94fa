import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AckError, TransportError } from '../errors/errors.js';
import { type SftpSession, withStallTimeout } from '../transport/sftpSession.js';
import type { KeptBody } from './replyLedger.js';

/**
 * Downloads one remote file to `localPath`, in bounded memory and on disk: written under a
 * `.part` name created 0600 (exclusive: never an existing file), its bytes counted and hashed as
 * they arrive, renamed once complete. Past `maxBytes` the transfer is cut and an AckError says so
 * (a reply that grew after it was listed); a failure, or `timeoutMs` without a byte arriving (a
 * large reply may take many times that in all), is a retryable TransportError. Either way no
 * partial file is left.
 */
export async function downloadReply(session: SftpSession, remotePath: string, localPath: string, maxBytes: number, timeoutMs: number): Promise<KeptBody> {
  const part = `${localPath}.part`;
  let read: { bytes: number; sha256: string };
  try {
    const file = (): Writable => createWriteStream(part, { flags: 'wx', mode: 0o600 });
    const overLimit = (): AckError =>
      new AckError(`The reply ${remotePath} grew past the limit of ${maxBytes} bytes while it was downloaded (MAILLON_MAX_REPLY_BYTES); the transfer was cut and it was set aside.`, {
        dependsOn: 'max_reply_bytes',
      });
    read = await readCounted(session, remotePath, file, maxBytes, timeoutMs, overLimit);
  } catch (err) {
    await fs.rm(part, { force: true });
    throw err;
  }
  await fs.rename(part, localPath);
  return { localPath, ...read };
}

/**
 * The length and sha256 of a remote file, hashed as its bytes arrive and kept nowhere (a reply
 * already read, checked for other content under its name). Bounded as downloadReply is: past
 * `maxBytes` an AckError (more than was listed), a failure or a stall a retryable TransportError.
 */
export function hashRemoteReply(session: SftpSession, remotePath: string, maxBytes: number, timeoutMs: number): Promise<{ bytes: number; sha256: string }> {
  const discard = (): Writable => new Writable({ write: (_chunk, _enc, done) => done() });
  const overLimit = (): AckError => new AckError(`The reply ${remotePath} holds more than the ${maxBytes} bytes listed: it is being written again.`);
  return readCounted(session, remotePath, discard, maxBytes, timeoutMs, overLimit);
}

/** Reads a remote file into `sink`, counting and hashing its bytes; past `maxBytes`, fails with `overLimit()`. */
async function readCounted(session: SftpSession, remotePath: string, sink: () => Writable, maxBytes: number, timeoutMs: number, overLimit: () => AckError): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  // Which side failed decides: the server's (retryable), the reply's size (set aside), or our disk (the command fails).
  let remoteFailed = false;
  const abort = new AbortController();
  try {
    await withStallTimeout(
      (progress) => {
        const remote = session.readStream(remotePath);
        remote.on('error', () => (remoteFailed = true));
        const limit = new Transform({
          transform(chunk: Buffer, _enc, done) {
            progress();
            bytes += chunk.length;
            if (bytes > maxBytes) return done(overLimit());
            hash.update(chunk);
            done(null, chunk);
          },
        });
        const copied = pipeline(remote, limit, sink(), { signal: abort.signal });
        // The pipeline settles only once every stream has closed, and a stream over a server that
        // hangs may never close (its file handle is never released): the stall ends the wait itself.
        copied.catch(() => undefined);
        return copied;
      },
      timeoutMs,
      `download of ${remotePath}`,
    );
  } catch (err) {
    abort.abort();
    if (err instanceof AckError) throw err;
    if (err instanceof TransportError) {
      throw new TransportError(`No progress for ${timeoutMs} ms: download of ${remotePath} (${bytes} bytes received).`, true, { cause: err });
    }
    if (!remoteFailed && (err as NodeJS.ErrnoException).syscall) throw err;
    throw new TransportError(`The download of ${remotePath} failed after ${bytes} bytes: ${(err as Error).message}.`, true, { cause: err });
  }
  return { bytes, sha256: hash.digest('hex') };
}
