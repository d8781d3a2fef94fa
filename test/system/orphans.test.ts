import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { moveToOrphans } from '../../src/system/orphans.js';

describe('moving a file or folder nobody in the ledger owns to .orphans/', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-orphans-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('moves a read-only folder under its label with a suffix, read-only again, and a second of the same name beside it', async () => {
    const names: string[] = [];
    for (const content of ['first', 'second']) {
      const folder = path.join(root, 'flow', 'submission-1');
      await fs.mkdir(folder, { recursive: true });
      await fs.writeFile(path.join(folder, 'transcript.json'), content);
      await fs.chmod(folder, 0o500);
      const target = await moveToOrphans(root, folder, 'flow.submission-1');
      expect(target).toMatch(/\/\.orphans\/flow\.submission-1\.[0-9a-f]{8}$/);
      expect((await fs.stat(target!)).mode & 0o777).toBe(0o500);
      expect(await fs.readFile(path.join(target!, 'transcript.json'), 'utf8')).toBe(content);
      names.push(path.basename(target!));
    }
    expect((await fs.readdir(path.join(root, '.orphans'))).sort()).toEqual(names.sort());
    expect((await fs.stat(path.join(root, '.orphans'))).mode & 0o777).toBe(0o700);
  });

  it('leaves a writable folder as it is, and answers null for one another process moved already', async () => {
    const folder = path.join(root, 'run-3');
    await fs.mkdir(folder, { mode: 0o700 });
    const target = await moveToOrphans(root, folder, 'run-3');
    expect((await fs.stat(target!)).mode & 0o777).toBe(0o700);
    expect(await moveToOrphans(root, folder, 'run-3')).toBeNull();
  });
});
