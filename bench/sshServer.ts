/**
 * The receivers' side of the lifecycle bench: the tests' own OpenSSH server (sshd on a free port
 * of 127.0.0.1, its own host and client keys, SFTP root with IN, OUT and OUTTEST), the receivers
 * file that points maillon at it, and OpenSSH's `sftp` client putting files to it (the send floor).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../test/helpers/sshd.js';
import { secondsOf } from './common.js';

export type { TestSshd as BenchSshd };

/** Starts the server; never skips (the bench fails with how to install OpenSSH). */
export function startBenchSshd(): Promise<TestSshd> {
  return requireTestSshd();
}

/**
 * Writes the receivers file (0600) whose "*" endpoint is the server: a timeout of a minute per
 * operation without progress, as a production file would have, and one retry.
 */
export async function writeBenchReceivers(sshd: TestSshd, file: string): Promise<string> {
  return writeReceiversFile(sshd, file, { timeoutMs: 60_000 });
}

/**
 * OpenSSH's `sftp` client in batch mode (`sftp -b`), with its default settings, putting `files`
 * into `remoteDir` of the server over one connection: wall seconds, start and key exchange included
 * (as they are in `maillon send`). The host key is pinned through a known_hosts file of its own.
 */
export async function sftpPutSeconds(sshd: TestSshd, files: readonly string[], remoteDir: string, work: string): Promise<number> {
  const batch = path.join(work, 'sftp-batch');
  const knownHosts = path.join(work, 'sftp-known-hosts');
  const hostKey = (await fs.readFile(path.join(path.dirname(sshd.privateKeyPath), 'host_ed25519.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
  await fs.writeFile(knownHosts, `[${sshd.host}]:${sshd.port} ${hostKey}\n`);
  await fs.writeFile(batch, files.map((f) => `put "${f}" "${path.join(remoteDir, path.basename(f))}"\n`).join(''));
  await fs.mkdir(remoteDir, { recursive: true });
  return secondsOf(() =>
    execFileSync(
      'sftp',
      [
        '-q',
        '-b',
        batch,
        '-i',
        sshd.privateKeyPath,
        '-P',
        String(sshd.port),
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        `${sshd.user}@${sshd.host}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  );
}
