import yauzl from 'yauzl';
import { AckError } from '../errors/errors.js';

/**
 * The XML inside a zipped (CO) reply: exactly one entry, at most `maxBytes` once unzipped
 * (counted while inflating, not trusted from the header), no path in its name.
 */
export function unzipReply(zipPath: string, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(new AckError(`The zipped reply ${zipPath} cannot be opened: ${err?.message}`, { cause: err }));
      if (zip.entryCount !== 1) {
        zip.close();
        return reject(new AckError(`The zipped reply ${zipPath} holds ${zip.entryCount} entries; a reply holds exactly one.`));
      }
      zip.readEntry();
      zip.on('entry', (entry: yauzl.Entry) => {
        if (/[\\/]/.test(entry.fileName) || entry.uncompressedSize > maxBytes) {
          zip.close();
          return reject(new AckError(`The zipped reply ${zipPath} holds "${entry.fileName.slice(0, 80)}" (${entry.uncompressedSize} bytes): refused (a path, or over ${maxBytes} bytes).`));
        }
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(new AckError(`Cannot read the zipped reply ${zipPath}: ${e?.message}`, { cause: e }));
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) {
              stream.destroy();
              zip.close();
              reject(new AckError(`The zipped reply ${zipPath} inflates beyond ${maxBytes} bytes: refused.`));
            } else chunks.push(c);
          });
          stream.on('error', (se) => reject(new AckError(`The zipped reply ${zipPath} is damaged: ${se.message}`, { cause: se })));
          stream.on('end', () => {
            zip.close();
            resolve(Buffer.concat(chunks).toString('utf8'));
          });
        });
      });
    });
  });
}
