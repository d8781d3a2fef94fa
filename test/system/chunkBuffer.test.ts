import { describe, expect, it } from 'vitest';
import { createChunkBuffer } from '../../src/system/chunkBuffer.js';

describe('createChunkBuffer', () => {
  it('sends full chunks in order, a piece larger than a chunk alone after the chunk before it, and the rest on flush', async () => {
    const sent: { text: string; own: boolean }[] = [];
    const chunks = createChunkBuffer(16, async (chunk, whole) => {
      await new Promise((r) => setTimeout(r, 1));
      sent.push({ text: chunk.toString('utf8'), own: whole === null });
    });
    const pieces = ['abc', 'é€', '😀', 'x'.repeat(40), 'de', 'fgh'];
    for (const p of pieces) {
      const w = chunks.write(p);
      if (w) await w;
    }
    await chunks.flush();
    expect(chunks.flush()).toBeUndefined();
    expect(sent.map((s) => s.text).join('')).toBe(pieces.join(''));
    expect(sent.filter((s) => s.own).map((s) => s.text)).toEqual(['x'.repeat(40)]);
    // No chunk holds more than its 16 bytes, except the piece sent alone.
    for (const s of sent) if (!s.own) expect(Buffer.byteLength(s.text)).toBeLessThanOrEqual(16);
  });

  it('fills the buffers `fresh` gives', async () => {
    const given: Buffer[] = [];
    const chunks = createChunkBuffer(
      8,
      () => Promise.resolve(),
      () => {
        const b = Buffer.alloc(8);
        given.push(b);
        return b;
      },
    );
    const ascii = (text: string) => (buf: Buffer, at: number) => buf.write(text, at, 'latin1');
    expect(chunks.writeWith(8, ascii('12345678'))).toBeUndefined();
    await chunks.writeWith(1, ascii('9'));
    expect(given[0]!.toString()).toBe('12345678');
    expect(given[1]!.subarray(0, 1).toString()).toBe('9');
  });
});
