import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { freePort } from '../../src/db/embeddedPostgres.js';
import { startEmbeddedSftpServer } from '../../src/transport/embeddedSftpServer.js';
import { tools } from './systemTools.js';

/** A real OpenSSH server on 127.0.0.1, for the current user, with its own keys, serving SFTP. */
export interface TestSshd {
  host: string;
  port: number;
  user: string;
  /** Private key (OpenSSH format) allowed to log in. */
  privateKeyPath: string;
  /** `SHA256:…` fingerprint of the server's host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** Folder on the server that the tests use as the partner's SFTP root (IN, OUT, OUTTEST). */
  root: string;
  /** Drops every open connection (SIGKILL to the per-connection processes), as a crash of the server's side would. */
  dropConnections(): void;
  /** Freezes every open connection (SIGSTOP): a server that hangs; dropConnections ends them. */
  stallConnections(): void;
  /** How many logins the server has accepted so far (sshd logs each one). */
  connections(): number;
  stop(): Promise<void>;
}

/** Path of sshd, or null when OpenSSH's server is not installed (or hidden: test/helpers/systemTools.ts). */
export function findSshd(): string | null {
  return tools().sshd;
}

/**
 * Starts `sshd -D -e` on a free port with a fresh host key and client key. No chroot (it cannot
 * live under /tmp); the SFTP root is a folder of the test's own. Password authentication is off.
 */
export async function startTestSshd(sshd: string, options: TestSshdOptions = {}): Promise<TestSshd> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-sshd-'));
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', options.passphrase ?? '', '-f', clientKey]);
  await fs.copyFile(`${clientKey}.pub`, path.join(dir, 'authorized_keys'));
  await fs.chmod(path.join(dir, 'authorized_keys'), 0o600);
  const root = path.join(dir, 'partner');
  for (const sub of ['IN', 'OUT', 'OUTTEST']) await fs.mkdir(path.join(root, sub), { recursive: true });
  if (process.getuid?.() === 0) await fs.mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  await fs.writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      'Subsystem sftp internal-sftp',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      // INFO: sshd logs each accepted login, which connections() counts.
      'LogLevel INFO',
    ].join('\n') + '\n',
  );
  const child: ChildProcess = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  await waitForPort(port, () => (child.exitCode !== null ? `sshd exited: ${stderr}` : null));
  const pub = (await fs.readFile(`${hostKey}.pub`, 'utf8')).split(' ')[1]!;
  const fingerprint = `SHA256:${createHash('sha256').update(Buffer.from(pub, 'base64')).digest('base64').replace(/=+$/, '')}`;
  return {
    host: '127.0.0.1',
    port,
    user: os.userInfo().username,
    privateKeyPath: clientKey,
    hostKeyFingerprint: fingerprint,
    root,
    dropConnections() {
      for (const pid of descendantsOf(child.pid!)) process.kill(pid, 'SIGKILL');
    },
    stallConnections() {
      for (const pid of descendantsOf(child.pid!)) process.kill(pid, 'SIGSTOP');
    },
    connections: () => stderr.match(/^Accepted publickey for /gm)?.length ?? 0,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every process below `root` (from /proc: sshd forks a monitor per connection, which forks the session). */
function descendantsOf(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fields after the command name, which is in parentheses and may hold spaces: state, ppid, …
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended meanwhile.
    }
  }
  const out: number[] = [];
  const below = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (below.has(ppid) && !below.has(pid)) {
        below.add(pid);
        out.push(pid);
        grew = true;
      }
    }
  }
  return out;
}

async function waitForPort(port: number, failed: () => string | null): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const why = failed();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}`);
}

/** An endpoint of a receivers file for this server (IN, OUT, OUTTEST under its root), with `overrides` on top. */
export function endpointOf(sshd: TestSshd, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKeyPath: sshd.privateKeyPath,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
    inDir: path.join(sshd.root, 'IN'),
    outDir: path.join(sshd.root, 'OUT'),
    outTestDir: path.join(sshd.root, 'OUTTEST'),
    timeoutMs: 5000,
    retries: 1,
    ...overrides,
  };
}

/** Writes a receivers file whose "*" endpoint is this server (endpointOf). */
export async function writeReceiversFile(sshd: TestSshd, file: string, overrides: Record<string, unknown> = {}): Promise<string> {
  await fs.writeFile(file, JSON.stringify({ '*': endpointOf(sshd, overrides) }), { mode: 0o600 });
  await fs.chmod(file, 0o600);
  return file;
}

/** How the test server is made. */
export interface TestSshdOptions {
  /** Protects the client key with this passphrase (as ssh-keygen -N does). */
  passphrase?: string;
}

/**
 * Starts the test sshd; without OpenSSH (and unless MAILLON_TEST_STRICT=1, which the global
 * setup enforces), the in-process ssh2 SFTP server in its place, serving the same paths.
 */
export async function requireTestSshd(options: TestSshdOptions = {}): Promise<TestSshd> {
  const binary = findSshd();
  return binary ? startTestSshd(binary, options) : startStandIn(options);
}

/** The in-process ssh2 SFTP server standing in for OpenSSH: absolute paths, as sshd without chroot. */
async function startStandIn(options: TestSshdOptions): Promise<TestSshd> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-sshd-'));
  const root = path.join(dir, 'partner');
  for (const sub of ['IN', 'OUT', 'OUTTEST']) await fs.mkdir(path.join(root, sub), { recursive: true });
  const host = ssh2.utils.generateKeyPairSync('ed25519');
  const client = ssh2.utils.generateKeyPairSync('ed25519', options.passphrase ? { passphrase: options.passphrase, cipher: 'aes256-ctr', rounds: 16 } : {});
  const clientKey = path.join(dir, 'client_ed25519');
  await fs.writeFile(clientKey, client.private, { mode: 0o600 });
  // Where OpenSSH's server keeps it: the bench pins it for the `sftp` client it times as a floor.
  await fs.writeFile(path.join(dir, 'host_ed25519.pub'), host.public, { mode: 0o600 });
  const server = await startEmbeddedSftpServer({ root: '/', hostKey: host.private, authorizedKey: client.public });
  return {
    host: '127.0.0.1',
    port: server.port,
    user: os.userInfo().username,
    privateKeyPath: clientKey,
    hostKeyFingerprint: server.hostKeyFingerprint,
    root,
    dropConnections: () => server.dropConnections(),
    stallConnections: () => server.stallConnections(),
    connections: () => server.connections(),
    async stop() {
      await server.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
