/**
 * Text and bytes gathered into large chunks, each handed to `send` when full. Text is encoded as
 * UTF-8 straight into the chunk (`buf.write`): pieces kept as strings until a chunk is full live
 * long enough for V8 to move them to its old generation, and joining them costs a copy more.
 * Used by the file sink (src/render/fileSink.ts) and by COPY FROM STDIN (src/db/copyIn.ts).
 */
export interface ChunkBuffer {
  /** Encodes text; returns a promise only when a chunk is sent (await it then). */
  write(text: string): Promise<void> | undefined;
  /**
   * Lets `fill` write at most `maxBytes` straight into the chunk, at `offset`; it returns how
   * many it wrote. Returns a promise only when a chunk is sent (await it then).
   */
  writeWith(maxBytes: number, fill: (buf: Buffer, offset: number) => number): Promise<void> | undefined;
  /** Sends what is gathered; undefined when nothing is. */
  flush(): Promise<void> | undefined;
  /** Bytes taken so far (sent or gathered): the offset in the output of the next byte written. */
  length(): number;
}

/**
 * `send(chunk, whole)` receives the filled start of a chunk and the chunk's whole buffer (null
 * for a piece larger than a chunk, which gets a buffer of its own); `fresh` gives the buffer to
 * fill next (a new one by default: the one sent may still be in use).
 */
export function createChunkBuffer(size: number, send: (chunk: Buffer, whole: Buffer | null) => Promise<void>, fresh: () => Buffer = () => Buffer.allocUnsafe(size)): ChunkBuffer {
  let buf = fresh();
  let used = 0;
  let sent = 0;
  const flush = (): Promise<void> | undefined => {
    if (used === 0) return undefined;
    sent += used;
    const whole = buf;
    buf = fresh();
    const chunk = whole.subarray(0, used);
    used = 0;
    return send(chunk, whole);
  };
  const writeWith = (maxBytes: number, fill: (b: Buffer, offset: number) => number): Promise<void> | undefined => {
    if (used + maxBytes <= size) {
      used += fill(buf, used);
      return undefined;
    }
    const flushing = flush();
    if (maxBytes > size) {
      // Larger than a whole chunk: a buffer of its own, sent after the chunk before it.
      const own = Buffer.allocUnsafe(maxBytes);
      const big = own.subarray(0, fill(own, 0));
      sent += big.length;
      return flushing ? flushing.then(() => send(big, null)) : send(big, null);
    }
    used += fill(buf, used);
    return flushing;
  };
  return {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8.
    write: (text) => writeWith(text.length * 3, (b, offset) => b.write(text, offset)),
    writeWith,
    flush,
    length: () => sent + used,
  };
}
