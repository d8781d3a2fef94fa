import { createReadStream } from 'node:fs';
import tar from 'tar-stream';

/** Every entry of a tar archive, read by tar-stream (not the writer's library): name, mode and text. */
export async function readTar(file: string): Promise<Map<string, { mode: number; text: string }>> {
  const entries = new Map<string, { mode: number; text: string }>();
  const extract = tar.extract();
  createReadStream(file).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    entries.set(entry.header.name, { mode: entry.header.mode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
  }
  return entries;
}
