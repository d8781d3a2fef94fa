import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_PLACE } from '../../src/db/postgresPlacement.js';
import { ROOT } from '../helpers/runHarness.js';

/**
 * `npm start` in a checkout closed to other users (a `mktemp -d` folder, mode 0700, as a clone
 * under /root is): as root, the embedded PostgreSQL runs as `postgres`, which could reach neither
 * its programs in node_modules nor its data under ./.maillon. As another user, the same copy
 * proves the demo needs nothing outside the folder.
 */
describe('npm start in a folder closed to other users', () => {
  let outer: string;
  let copy: string;
  beforeAll(async () => {
    outer = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-closed-'));
    await fs.chmod(outer, 0o700);
    copy = path.join(outer, 'maillon');
    await fs.mkdir(copy);
    for (const entry of ['bin', 'src', 'pipelines', 'schemas', 'package.json', 'tsconfig.json']) {
      await fs.cp(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    }
    // node_modules as hard links (same file system: a second, not a 180 MB copy); a copy otherwise.
    try {
      execFileSync('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules')], { stdio: 'pipe' });
    } catch {
      await fs.rm(path.join(copy, 'node_modules'), { recursive: true, force: true });
      execFileSync('cp', ['-a', path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules')]);
    }
  });
  afterAll(async () => {
    const location = await fs.readFile(path.join(copy, '.maillon/pg/data-location'), 'utf8').catch(() => null);
    if (location) await fs.rm(path.dirname(location.trim()), { recursive: true, force: true });
    await fs.rm(outer, { recursive: true, force: true });
  });

  it('runs the demo with nothing set by hand (as root: data and programs where `postgres` reaches them)', async () => {
    const child = spawn(path.join(copy, 'bin/maillon.js'), ['demo', '--affiliates', '120'], {
      cwd: copy,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('maillon:');
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^career\s+\S+(\s+\d+){5}\s+ok\s/m);
    expect((await fs.stat(outer)).mode & 0o777).toBe(0o700);
    if (process.getuid?.() === 0) {
      const dataDir = (await fs.readFile(path.join(copy, '.maillon/pg/data-location'), 'utf8')).trim();
      expect(dataDir.startsWith(`${SHARED_PLACE}/`)).toBe(true);
      const st = await fs.stat(dataDir);
      expect(st.uid).toBe(Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()));
      expect(st.mode & 0o777).toBe(0o700);
      // Nothing left running: the server stopped with the demo.
      expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    } else {
      expect(existsSync(path.join(copy, '.maillon/pg/data/PG_VERSION'))).toBe(true);
    }
  });
});
