import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokenLinks, headingAnchors, linkTargets, markdownFiles } from '../helpers/markdownLinks.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';

describe("the repository's Markdown", () => {
  it('has no relative link, and no anchor, that does not resolve', () => {
    const files = markdownFiles(ROOT);
    expect(files).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', path.join('docs', 'testing.md')]));
    const broken = brokenLinks(ROOT).map((b) => `${b.file}:${b.line}: ${b.target}: ${b.reason}`);
    expect(broken).toEqual([]);
  });

  it('keeps the README under 350 lines', async () => {
    const lines = (await fs.readFile(path.join(ROOT, 'README.md'), 'utf8')).split('\n').length;
    expect(lines).toBeLessThan(350);
  });

  it('keeps the two commands at the top of the README', async () => {
    const top = (await fs.readFile(path.join(ROOT, 'README.md'), 'utf8')).split('\n').slice(0, 15).join('\n');
    expect(top).toContain('npm ci && npm start');
    expect(top).toContain('npm test');
  });
});

describe('the link check', () => {
  let scratch: { dir: string; remove: () => Promise<void> };
  beforeEach(async () => {
    scratch = await scratchDir('links');
    await fs.mkdir(path.join(scratch.dir, 'docs'));
  });
  afterEach(async () => scratch.remove());

  const write = (file: string, text: string): Promise<void> => fs.writeFile(path.join(scratch.dir, file), text);

  it('reports a missing file, a missing anchor and a path outside the repository, and nothing else', async () => {
    await write(
      'README.md',
      [
        '# Title',
        '[ok](docs/a.md) [ok anchor](docs/a.md#a-heading-with-code-and-more) [folder](docs/) [self](#title)',
        '[missing](docs/none.md) [bad anchor](docs/a.md#nowhere) [outside](../x.md) [web](https://example.org/none)',
        '```',
        '[in code](docs/none-in-code.md)',
        '```',
        'and `[inline code](docs/none-inline.md)`',
        '[ref]: docs/none-ref.md',
      ].join('\n'),
    );
    await write('docs/a.md', '# A heading with `code`, and more\n[back](../README.md#title)\n');
    expect(brokenLinks(scratch.dir).map((b) => [b.file, b.line, b.target, b.reason])).toEqual([
      ['README.md', 3, 'docs/none.md', 'no such file or folder'],
      ['README.md', 3, 'docs/a.md#nowhere', 'no heading gives the anchor #nowhere'],
      ['README.md', 3, '../x.md', 'outside the repository'],
      ['README.md', 8, 'docs/none-ref.md', 'no such file or folder'],
    ]);
  });

  it('gives headings the anchors GitHub gives them', () => {
    const anchors = headingAnchors('# Unattended operation: `maillon serve`\n## career — INASTI, quarterly\n## Notes\n## Notes\n');
    expect([...anchors]).toEqual(['unattended-operation-maillon-serve', 'career--inasti-quarterly', 'notes', 'notes-1']);
  });

  it('reads link targets with titles and angle brackets', () => {
    expect(linkTargets('[a](x.md "title") ![b](<y z.png>)').map((t) => t.target)).toEqual(['x.md', 'y z.png']);
  });
});
