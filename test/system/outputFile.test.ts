import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFolder } from '../../src/import/importFolder.js';
import { type CliOutcome, maillon, maillonUnderLimit } from '../helpers/cli.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { tools } from '../helpers/systemTools.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** The path errors of an operator's `--out`: said in a sentence naming it (exit 2), never a Node crash. */
function refusedPath(out: CliOutcome, sentence: string): void {
  expect(out.code, out.stderr).toBe(2);
  expect(out.stderr).toMatch(/^maillon: /m);
  expect(out.stderr).toContain(sentence);
  expect(out.stderr).not.toContain('node:events');
  expect(out.stderr).not.toContain('unexpected failure');
}

/** `report --out` (and `evidence`/`generate --out`): written whole, 0600, or a clear refusal (review-cli finding 4). */
describe('output files named with --out', () => {
  let db: TestDatabase;
  let tmp: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let readOnly: string;
  const ROOTED = tools().root !== null;
  const report = (out: string, ...more: string[]): string[] => ['report', 'career', '--period', '2026-Q3', '--out', out, ...more];

  beforeAll(async () => {
    tmp = await scratchDir('out');
    db = await createTestDatabase();
    await importFolder(db.pool, path.join(ROOT, 'fixtures/career/input'));
    env = { DATABASE_URL: db.url, MAILLON_HOME: tmp.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T' };
    const run = await maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-10-10T02:00:00+02:00'], env);
    expect(run.code, run.stderr).toBe(0);
    // A folder maillon may not write: a read-only tmpfs as root (root ignores permissions), else mode 0500.
    readOnly = path.join(tmp.dir, 'read-only');
    await fs.mkdir(readOnly);
    if (ROOTED) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', readOnly]);
    await fs.writeFile(path.join(readOnly, 'report.txt'), 'old\n', { mode: 0o644 });
    if (ROOTED) execFileSync('mount', ['-o', 'remount,ro', readOnly]);
    else await fs.chmod(readOnly, 0o500);
  });
  afterAll(async () => {
    if (readOnly && ROOTED) execFileSync('umount', [readOnly]);
    await db?.drop();
    await tmp?.remove();
  });

  it('says which path is wrong (exit 2) instead of crashing Node: a folder that does not exist, a folder, a path through a file, a place it may not write', async () => {
    const missing = path.join(tmp.dir, 'absent', 'r.txt');
    refusedPath(await maillon(report(missing), env), `--out ${missing}: the folder ${path.dirname(missing)} does not exist.`);
    refusedPath(await maillon(report(tmp.dir, '--format', 'csv'), env), `--out ${tmp.dir} is a folder: give the path of a file.`);
    const file = path.join(tmp.dir, 'a-file');
    await fs.writeFile(file, '');
    refusedPath(await maillon(report(path.join(file, 'r.txt')), env), `--out ${path.join(file, 'r.txt')}: a part of that path is a file, not a folder.`);
    const denied = path.join(readOnly, 'report.txt');
    refusedPath(await maillon(report(denied), env), `--out ${denied}: maillon may not write there (${ROOTED ? 'EROFS' : 'EACCES'}`);
    expect(await fs.readdir(readOnly)).toEqual(['report.txt']);
    expect(await fs.readFile(denied, 'utf8')).toBe('old\n');
  });

  it('replaces an existing file whole, with mode 0600 whatever its former mode, and leaves no temporary file', async () => {
    const folder = path.join(tmp.dir, 'reports');
    await fs.mkdir(folder);
    const out = path.join(folder, 'r.txt');
    await fs.writeFile(out, 'old report '.repeat(100_000), { mode: 0o644 });
    await fs.chmod(out, 0o644);
    const written = await maillon(report(out), env);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toContain(`report written to ${out}`);
    expect((await fs.stat(out)).mode & 0o777).toBe(0o600);
    const text = await fs.readFile(out, 'utf8');
    expect(text).not.toContain('old report');
    expect(text).toBe((await maillon(['report', 'career', '--period', '2026-Q3'], env)).stdout);
    expect(await fs.readdir(folder)).toEqual(['r.txt']);
  });

  it('writes straight to a device or a pipe (/dev/null, a named pipe read by another program), as before', async () => {
    const devNull = await maillon(report('/dev/null'), env);
    expect(devNull.code, devNull.stderr).toBe(0);
    const fifo = path.join(tmp.dir, 'report.fifo');
    execFileSync('mkfifo', [fifo]);
    const [piped, read] = await Promise.all([maillon(report(fifo, '--format', 'csv'), env), fs.readFile(fifo, 'utf8')]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(read).toBe((await maillon(['report', 'career', '--period', '2026-Q3', '--format', 'csv'], env)).stdout);
    expect((await fs.stat(fifo)).isFIFO()).toBe(true);
  });

  it('a write that fails midway (file size limit) leaves the former file as it was, no temporary file, and says so (exit 7)', async () => {
    const folder = path.join(tmp.dir, 'limited');
    await fs.mkdir(folder);
    const out = path.join(folder, 'r.csv');
    const whole = await maillon(report(path.join(tmp.dir, 'whole.csv'), '--format', 'csv'), env);
    expect(whole.code, whole.stderr).toBe(0);
    const size = (await fs.stat(path.join(tmp.dir, 'whole.csv'))).size;
    await fs.writeFile(out, 'former\n', { mode: 0o600 });
    const failed = await maillonUnderLimit(Math.floor(size / 2), report(out, '--format', 'csv'), env);
    expect(failed.code, failed.stderr).toBe(7);
    expect(failed.stderr).toMatch(new RegExp(`^maillon: ${out} could not be written: .*EFBIG.*Nothing was left there`, 'm'));
    expect(await fs.readFile(out, 'utf8')).toBe('former\n');
    expect(await fs.readdir(folder)).toEqual(['r.csv']);
  });

  it('evidence --out and generate --out name a bad path the same way (exit 2, no "unexpected failure")', async () => {
    const zip = path.join(tmp.dir, 'absent', 'e.zip');
    refusedPath(await maillon(['evidence', 'career', '--period', '2026-Q3', '--out', zip], env), `--out ${zip}: the folder ${path.dirname(zip)} does not exist.`);
    const deniedZip = path.join(readOnly, 'e.zip');
    refusedPath(await maillon(['evidence', 'career', '--period', '2026-Q3', '--out', deniedZip], env), `--out ${deniedZip}: maillon may not write there`);
    const file = path.join(tmp.dir, 'a-file');
    await fs.writeFile(file, '');
    refusedPath(await maillon(['generate', '--affiliates', '5', '--out', path.join(file, 'x')], env), `--out ${path.join(file, 'x')}: that path, or a part of it, is a file, not a folder.`);
    refusedPath(await maillon(['generate', '--affiliates', '5', '--out', file], env), `--out ${file}: that path, or a part of it, is a file, not a folder.`);
    refusedPath(await maillon(['generate', '--affiliates', '5', '--out', path.join(readOnly, 'data')], env), `--out ${path.join(readOnly, 'data')}: maillon may not write there`);
  });
});
