import net from 'node:net';
import type { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import { TransportError } from '../errors/errors.js';
import { hostKeyFingerprint } from './hostKey.js';
import { readClientKey } from './clientKey.js';
import type { Endpoint } from './receivers.js';
import { putHashed, readHashed, type TransferResult } from './sftpTransfer.js';

/**
 * An open SFTP session to one endpoint; every operation has a timeout: a transfer (upload,
 * read-back) fails when it makes no progress for that long, any other operation when it does not
 * finish in that time.
 */
export interface SftpSession {
  /** The host key fingerprint the server presented (equal to the pinned one). */
  readonly fingerprint: string;
  /** False once the connection has ended (closed by either side or failed). */
  readonly open: boolean;
  exists(remotePath: string): Promise<false | 'd' | '-' | 'l'>;
  size(remotePath: string): Promise<number>;
  fastPut(localPath: string, remotePath: string): Promise<void>;
  /** Uploads a file, reading it once: returns the length and sha256 of the bytes sent. */
  upload(localPath: string, remotePath: string): Promise<TransferResult>;
  fastGet(remotePath: string, localPath: string): Promise<void>;
  /** The remote file's bytes as they arrive; the caller bounds the transfer in size and in time without progress, and destroys the stream when done. */
  readStream(remotePath: string): Readable;
  putEmpty(remotePath: string): Promise<void>;
  /** The sha256 (hex) of a remote file, read back whole with pipelined reads. */
  sha256(remotePath: string): Promise<string>;
  rename(from: string, to: string): Promise<void>;
  remove(remotePath: string): Promise<void>;
  /** A folder's entries: name, size (bytes), type ('-' a regular file, 'd', 'l'…), modification time (whole seconds; null when the server gives none). */
  list(dir: string): Promise<{ name: string; size: number; type: string; mtime: Date | null }[]>;
  close(): Promise<void>;
}

/**
 * Opens a session: TCP with no Nagle delay (with it every round trip waits for a delayed ACK), key
 * authentication only, the host key checked against the pinned fingerprint before anything is
 * sent. A private key that cannot be used (its passphrase missing or wrong) is a ConfigError,
 * before any connection; a host key mismatch or a refused key is not retryable; network failures are.
 */
export async function openSftpSession(endpoint: Endpoint, passphrase: string | undefined): Promise<SftpSession> {
  const privateKey = readClientKey(endpoint, passphrase);
  // The library's default listeners print the connection's end and close with console.log (on
  // stdout, before a --json document): every failure is reported by the operation that meets it.
  const quiet = (): void => undefined;
  const client = new SftpClient('maillon', { error: quiet, end: quiet, close: quiet });
  let presented = '';
  let sftp: SFTPWrapper;
  const sock = net.connect({ host: endpoint.host, port: endpoint.port });
  sock.setNoDelay(true);
  try {
    sftp = await client.connect({
      sock,
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      privateKey,
      ...(passphrase ? { passphrase } : {}),
      readyTimeout: endpoint.timeoutMs,
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => {
        presented = hostKeyFingerprint(key);
        return presented === endpoint.hostKeyFingerprint;
      },
    });
  } catch (err) {
    sock.destroy();
    throw connectError(endpoint, presented, err);
  }
  // Every operation: bounded in time, and a failure of the server (dropped connection, refused
  // operation) is a retryable TransportError that names what was being done.
  const failed =
    (what: string) =>
    (err: unknown): never => {
      if (err instanceof TransportError) throw err;
      throw new TransportError(`SFTP ${what} on ${endpoint.host}:${endpoint.port} failed: ${(err as Error).message}`, true, { cause: err });
    };
  const timed = <T>(what: string, p: Promise<T>): Promise<T> => withTimeout(p, endpoint.timeoutMs, `${what} on ${endpoint.host}:${endpoint.port}`).catch(failed(what));
  // A large file takes longer than the timeout to move: it is the absence of progress that fails it.
  const moving = <T>(what: string, run: (progress: () => void) => Promise<T>): Promise<T> =>
    withStallTimeout(run, endpoint.timeoutMs, `${what} on ${endpoint.host}:${endpoint.port}`).catch(failed(what));
  let open = true;
  sock.once('close', () => (open = false));
  return {
    fingerprint: presented,
    get open() {
      return open && !sock.destroyed;
    },
    exists: (p) => timed(`checking ${p}`, client.exists(p)),
    size: async (p) => (await timed(`stat of ${p}`, client.stat(p))).size,
    fastPut: async (local, remote) => {
      await moving(`upload of ${remote}`, (progress) => putHashed(sftp, local, remote, progress));
    },
    upload: (local, remote) => moving(`upload of ${remote}`, (progress) => putHashed(sftp, local, remote, progress)),
    fastGet: async (remote, local) => {
      await timed(`download of ${remote}`, client.fastGet(remote, local));
    },
    readStream: (remote) => client.createReadStream(remote),
    putEmpty: async (remote) => {
      await timed(`writing ${remote}`, client.put(Buffer.alloc(0), remote));
    },
    sha256: async (remote) => (await moving(`reading back ${remote}`, (progress) => readHashed(sftp, remote, progress))).sha256,
    rename: async (from, to) => {
      // posix-rename@openssh.com where the server offers it; plain rename otherwise (the target
      // never exists at this point, so SFTP v3's refusal to rename onto a name cannot bite).
      await timed(
        `renaming ${from}`,
        client.posixRename(from, to).catch((err: Error) => {
          if (!/not support|unsupported/i.test(err.message)) throw err;
          return client.rename(from, to);
        }),
      );
    },
    remove: async (p) => {
      await timed(`removing ${p}`, client.delete(p, true));
    },
    list: async (dir) =>
      (await timed(`listing ${dir}`, client.list(dir))).map((e) => ({ name: e.name, size: e.size, type: e.type, mtime: Number.isFinite(e.modifyTime) ? new Date(e.modifyTime) : null })),
    close: async () => {
      await client.end().catch(() => undefined);
    },
  };
}

function connectError(endpoint: Endpoint, presented: string, err: unknown): TransportError {
  const where = `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
  const message = (err as Error).message ?? String(err);
  if (presented && presented !== endpoint.hostKeyFingerprint) {
    return new TransportError(
      `The SFTP server ${where} presented host key ${presented}, not the pinned ${endpoint.hostKeyFingerprint}; refusing to connect. If the partner changed its key, confirm the new fingerprint with them and update the receivers file.`,
      false,
      { cause: err },
    );
  }
  if (/authentication|auth methods/i.test(message)) {
    return new TransportError(`The SFTP server ${where} refused our key: ${message}. Check the user and that the partner installed our public key.`, false, { cause: err });
  }
  return new TransportError(`Cannot connect to the SFTP server ${where}: ${message}.`, true, { cause: err });
}

/**
 * Runs a transfer that reports its progress; rejects with a retryable TransportError when `ms`
 * pass without progress (the transfer's own outcome is then ignored).
 */
export function withStallTimeout<T>(run: (progress: () => void) => Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  let stalled: (err: TransportError) => void = () => undefined;
  const timeout = new Promise<never>((_, reject) => (stalled = reject));
  const arm = (): void => {
    clearTimeout(timer);
    if (!settled) timer = setTimeout(() => stalled(new TransportError(`No progress for ${ms} ms: ${what}.`, true)), ms);
  };
  arm();
  return Promise.race([run(arm), timeout]).finally(() => {
    settled = true;
    clearTimeout(timer);
  });
}

/** Rejects with a retryable TransportError when `p` does not settle within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransportError(`Timed out after ${ms} ms: ${what}.`, true)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
