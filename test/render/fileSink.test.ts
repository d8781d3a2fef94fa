import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileSink } from '../../src/render/fileSink.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-sink-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Pieces of every UTF-8 width, of many lengths, so that chunk boundaries fall everywhere. */
function pieces(): string[] {
  const words = ['Mertens', 'Lefèvre', 'Nguyễn', '€ 1 234,56', '😀 astral', 'x'.repeat(5000), '<a>&amp;</a>\n'];
  const out: string[] = [];
  for (let i = 0; i < 3000; i++) out.push(`${words[i % words.length]}${i}`.repeat(1 + (i % 7)));
  // One piece larger than a whole chunk, in the middle.
  out.splice(1500, 0, 'Çelik '.repeat(400_000));
  return out;
}

describe('createFileSink', () => {
  it('writes exactly the UTF-8 of every piece, in order, across chunk boundaries, and hashes it', async () => {
    const file = path.join(dir, 'out.xml.part');
    const teed: Buffer[] = [];
    const sink = await createFileSink(file, {
      tee: (chunk) => {
        teed.push(Buffer.from(chunk));
        return undefined;
      },
    });
    const all = pieces();
    for (const p of all) {
      const flushing = sink.write(p);
      if (flushing) await flushing;
    }
    const { bytes, sha256 } = await sink.close();
    const expected = Buffer.from(all.join(''), 'utf8');
    const written = await fs.readFile(file);
    expect(written.equals(expected)).toBe(true);
    expect(bytes).toBe(expected.length);
    expect(sha256).toBe(createHash('sha256').update(expected).digest('hex'));
    // The tee saw the same bytes, in several chunks.
    expect(Buffer.concat(teed).equals(expected)).toBe(true);
    expect(teed.length).toBeGreaterThan(3);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('reuses its buffers once written: the same bytes, through a few buffers', async () => {
    const file = path.join(dir, 'reused.xml.part');
    const seen = new Set<ArrayBufferLike>();
    const teed: Buffer[] = [];
    const sink = await createFileSink(file, {
      // Keeps the chunk itself, not a copy, and asks to wait: the bytes must not change meanwhile.
      tee: (chunk) => {
        seen.add(chunk.buffer);
        const copy = Buffer.from(chunk);
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            expect(chunk.equals(copy)).toBe(true);
            teed.push(copy);
            resolve();
          }, 1),
        );
      },
    });
    const all = pieces();
    for (const p of all) {
      const flushing = sink.write(p);
      if (flushing) await flushing;
    }
    await sink.close();
    const expected = Buffer.from(all.join(''), 'utf8');
    expect((await fs.readFile(file)).equals(expected)).toBe(true);
    expect(Buffer.concat(teed).equals(expected)).toBe(true);
    // Over 9 MiB went through three buffers of 1 MiB and the one made for the 2.8 MB piece.
    expect(expected.length).toBeGreaterThan(9 * 1024 * 1024);
    expect(seen.size).toBeLessThanOrEqual(4);

    // Without a tee, the same bytes.
    const plain = path.join(dir, 'plain.xml.part');
    const other = await createFileSink(plain);
    for (const p of all) {
      const flushing = other.write(p);
      if (flushing) await flushing;
    }
    await other.close();
    expect((await fs.readFile(plain)).equals(expected)).toBe(true);
  });

  it('never replaces an existing file and removes its own on discard', async () => {
    const file = path.join(dir, 'taken.xml.part');
    await fs.writeFile(file, 'earlier');
    await expect(createFileSink(file)).rejects.toThrow(/Cannot create .*taken\.xml\.part/);
    expect(await fs.readFile(file, 'utf8')).toBe('earlier');
    const other = path.join(dir, 'other.xml.part');
    const sink = await createFileSink(other);
    await sink.write('partial');
    await sink.discard();
    await expect(fs.stat(other)).rejects.toThrow(/ENOENT/);
  });
});
