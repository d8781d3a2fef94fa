import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeControls } from '../../src/system/escapeControls.js';
import { commandHint } from '../../src/cli/hint.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';

describe('hints that work where the user is', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await scratchDir('hint');
    await fs.symlink(path.join(ROOT, 'bin/maillon.js'), path.join(tmp.dir, 'maillon'));
  });
  afterAll(async () => tmp.remove());

  it('says `maillon` when PATH names this installation, `npx maillon` in the checkout, the full path elsewhere', () => {
    expect(commandHint({ PATH: `/usr/bin:${tmp.dir}` }, '/')).toBe('maillon');
    expect(commandHint({ PATH: '/usr/bin' }, ROOT)).toBe('npx maillon');
    expect(commandHint({ PATH: '/usr/bin' }, path.join(ROOT, 'fixtures'))).toBe('npx maillon');
    expect(commandHint({ PATH: '/usr/bin' }, tmp.dir)).toBe(path.join(ROOT, 'bin/maillon.js'));
  });
});

describe('names from outside, shown on one line', () => {
  it('escapes control characters, line breaks and C1 codes, and keeps the rest', () => {
    expect(escapeControls('FO.\u001b[31mred\r\nline\u0085é€')).toBe('FO.\\x1b[31mred\\x0d\\x0aline\\x85é€');
    expect(escapeControls('a\u2028b')).toBe('a\\u2028b');
  });
});
