import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createArchiveWriter, DOCUMENTS_ARCHIVE } from '../../src/engine/documents.js';
import type { DocumentOutput, RecordContext } from '../../src/engine/pipeline.js';
import { makePeriod } from '../../src/period/period.js';
import { readTar } from '../helpers/readTar.js';

interface Doc {
  name: string;
  body: string;
}
const out: DocumentOutput<Doc> = { name: (d) => d.name, render: (d) => d.body };
const ctx: RecordContext = { period: makePeriod('year', 2025, 1), asOfDay: '2025-12-31' as RecordContext['asOfDay'] };
const mtime = new Date('2026-01-20T02:00:00Z');

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-docs-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function writeAll(docs: Doc[]): Promise<string> {
  const writer = await createArchiveWriter(out, dir, ctx, mtime);
  for (const d of docs) {
    const writing = writer.write(d, JSON.stringify(d));
    if (writing) await writing;
  }
  await writer.flush();
  expect(writer.count()).toBe(docs.length);
  return path.join(dir, DOCUMENTS_ARCHIVE);
}

describe('the printable documents archive', () => {
  it('holds every page byte for byte, with names of any length and script, read by two other tar readers', async () => {
    const docs: Doc[] = [];
    // Pages of every size around the 512-byte blocks and the 1 MiB write buffer.
    for (let i = 0; i < 3000; i++) docs.push({ name: `A${String(i).padStart(9, '0')}.html`, body: `<p>Nguyễn Lefèvre 😀 ${i}</p>`.repeat(i % 40) });
    docs.push({ name: 'Çelik-Nguyễn 12.html', body: 'accented name' });
    docs.push({ name: `${'L'.repeat(150)}.html`, body: 'a name longer than a ustar header holds' });
    docs.push({ name: 'big.html', body: 'é'.repeat(1_500_000) });
    docs.push({ name: 'empty.html', body: '' });
    const archive = await writeAll(docs);

    const entries = await readTar(archive);
    expect(entries.size).toBe(docs.length);
    for (const d of docs) {
      expect(entries.get(d.name)?.text, d.name).toBe(d.body);
      expect(entries.get(d.name)?.mode, d.name).toBe(0o600);
    }
    expect((await fs.stat(archive)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(archive)).size % 512).toBe(0);
    // GNU tar lists them all and takes one out alone.
    const listed = execFileSync('tar', ['-tf', archive], { encoding: 'utf8', maxBuffer: 1 << 24 })
      .trim()
      .split('\n');
    expect(listed).toEqual(docs.map((d) => d.name));
    expect(execFileSync('tar', ['-xOf', archive, 'Çelik-Nguyễn 12.html'], { encoding: 'utf8' })).toBe('accented name');
    expect(execFileSync('tar', ['-tvf', archive, 'A000000007.html'], { encoding: 'utf8' })).toMatch(/^-rw------- 0\/0 .* 2026-01-20 /);
  });

  it('refuses a name that is not a plain file name, and never replaces an archive', async () => {
    for (const [i, name] of ['../escape.html', 'sub/dir.html', '.hidden', 'line\nbreak.html', ''].entries()) {
      const own = path.join(dir, String(i));
      await fs.mkdir(own);
      const writer = await createArchiveWriter(out, own, ctx, mtime);
      expect(() => writer.write({ name, body: 'x' }, '{}'), JSON.stringify(name)).toThrow(/Refusing the document name/);
      writer.discard();
    }
    await fs.writeFile(path.join(dir, DOCUMENTS_ARCHIVE), 'earlier');
    await expect(createArchiveWriter(out as DocumentOutput<unknown>, dir, ctx, mtime)).rejects.toThrow(/Cannot create/);
    expect(await fs.readFile(path.join(dir, DOCUMENTS_ARCHIVE), 'utf8')).toBe('earlier');
  });
});
