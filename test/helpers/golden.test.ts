import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkGolden, describeUpdate, firstDifference, updateRequested } from './golden.js';
import { scratchDir } from './runHarness.js';

describe('golden files', () => {
  let scratch: { dir: string; remove: () => Promise<void> };
  let golden: string;
  let out: string;

  beforeEach(async () => {
    scratch = await scratchDir('golden');
    golden = path.join(scratch.dir, 'golden');
    out = path.join(scratch.dir, 'out');
    await fs.mkdir(golden);
    await fs.mkdir(out);
  });
  afterEach(async () => scratch.remove());

  async function write(dir: string, name: string, text: string): Promise<{ name: string; path: string }> {
    await fs.writeFile(path.join(dir, name), text);
    return { name, path: path.join(dir, name) };
  }

  it('passes when every produced file equals its golden file and no golden file is left over', async () => {
    await write(golden, 'A', 'one\ntwo\n');
    const a = await write(out, 'A', 'one\ntwo\n');
    expect(await checkGolden(golden, [a], { update: false })).toEqual({ changed: [], added: [], removed: [] });
  });

  it('fails on a changed byte, naming the file and its first differing line', async () => {
    await write(golden, 'A', 'one\ntwo\n');
    const a = await write(out, 'A', 'one\ntwa\n');
    await expect(checkGolden(golden, [a], { update: false })).rejects.toThrow(/changed: A\n {2}A: line 2, column 3: golden "two" · produced "twa"\n.*golden:update/s);
  });

  it('fails on a golden file that no run produced', async () => {
    await write(golden, 'A', 'a');
    await write(golden, 'B', 'b');
    const a = await write(out, 'A', 'a');
    await expect(checkGolden(golden, [a], { update: false })).rejects.toThrow('golden files no run produced: B');
  });

  it('fails on a produced file without a golden file, also when the folder does not exist', async () => {
    const a = await write(out, 'A', 'a');
    await expect(checkGolden(golden, [a], { update: false })).rejects.toThrow('produced without a golden file: A');
    await expect(checkGolden(path.join(scratch.dir, 'none'), [a], { update: false })).rejects.toThrow('produced without a golden file: A');
  });

  it('refuses two produced files of the same name', async () => {
    const a = await write(out, 'A', 'a');
    await expect(checkGolden(golden, [a, a], { update: false })).rejects.toThrow('Two produced files are named A');
  });

  it('in update mode rewrites the folder to match, reports what changed, and the next comparison passes', async () => {
    await write(golden, 'A', 'old');
    await write(golden, 'B', 'same');
    await write(golden, 'C', 'gone');
    const produced = [await write(out, 'A', 'new'), await write(out, 'B', 'same'), await write(out, 'D', 'added')];
    const differences = await checkGolden(golden, produced, { update: true });
    expect(differences).toEqual({ changed: ['A'], added: ['D'], removed: ['C'] });
    expect((await fs.readdir(golden)).sort()).toEqual(['A', 'B', 'D']);
    expect(await fs.readFile(path.join(golden, 'A'), 'utf8')).toBe('new');
    expect(describeUpdate('fixtures/x/golden', differences)).toBe('golden:update fixtures/x/golden: changed A; added D; removed C. Review the diff before committing.');
    expect(await checkGolden(golden, produced, { update: false })).toEqual({ changed: [], added: [], removed: [] });
    expect(describeUpdate('fixtures/x/golden', { changed: [], added: [], removed: [] })).toBe('golden:update fixtures/x/golden: unchanged');
  });

  it('is in update mode only through golden:update, never in the full test run', () => {
    expect(updateRequested({})).toBe(false);
    expect(updateRequested({ MAILLON_UPDATE_GOLDEN: '1' })).toBe(true);
    expect(() => updateRequested({ MAILLON_UPDATE_GOLDEN: '1', MAILLON_FULL_RUN: '1' })).toThrow(/only by `npm run golden:update`/);
  });

  it('describes the first difference of two texts', () => {
    expect(firstDifference('a\nb', 'a\nb\nc')).toBe('line 3, column 1: golden (no line: the file ends before) · produced "c"');
    const long = 'x'.repeat(100);
    expect(firstDifference(`${long}A${long}`, `${long}B${long}`)).toBe(`line 1, column 101: golden …"${'x'.repeat(40)}A${'x'.repeat(39)}"… · produced …"${'x'.repeat(40)}B${'x'.repeat(39)}"…`);
    expect(firstDifference('a', 'a')).toBe('the same text, other bytes');
  });
});
