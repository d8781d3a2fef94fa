import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { Transform } from 'node:stream';
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
            if (bytes > maxBytes)
              return done(
                new AckError(`The reply ${remotePath} grew past the limit of ${maxBytes} bytes while it was downloaded (MAILLON_MAX_REPLY_BYTES); the transfer was cut and it was set aside.`, {
                  dependsOn: 'max_reply_bytes',
                }),
              );
            hash.update(chunk);
            done(null, chunk);
          },
        });
        const copied = pipeline(remote, limit, createWriteStream(part, { flags: 'wx', mode: 0o600 }), { signal: abort.signal });
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
    await fs.rm(part, { force: true });
    if (err instanceof AckError) throw err;
    if (err instanceof TransportError) {
      throw new TransportError(`No progress for ${timeoutMs} ms: download of ${remotePath} (${bytes} bytes received).`, true, { cause: err });
    }
    if (!remoteFailed && (err as NodeJS.ErrnoException).syscall) throw err;
    throw new TransportError(`The download of ${remotePath} failed after ${bytes} bytes: ${(err as Error).message}.`, true, { cause: err });
  }
  await fs.rename(part, localPath);
  return { localPath, bytes, sha256: hash.digest('hex') };
}
