import yazl from 'yazl';

/** A zip archive, in memory, holding one entry with `text` as UTF-8: a zipped (CO) reply. */
export function zipOne(entryName: string, text: string): Promise<Buffer> {
  const z = new yazl.ZipFile();
  z.addBuffer(Buffer.from(text, 'utf8'), entryName);
  z.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}
