import { Transform, type Readable } from 'node:stream';
import yauzl from 'yauzl';
import { AckError } from '../errors/errors.js';
import { libraryProblem } from './libraryProblem.js';

/**
 * The XML inside a zipped (CO) reply, as a stream: exactly one entry, no path in its name, at
 * most `maxBytes` once inflated (counted while inflating, not trusted from the header). Every
 * failure of the archive, before or while reading (an entry named `../x`, a damaged stream),
 * is an AckError naming `source`; the zip file is closed when the stream ends or is destroyed.
 */
export function openZippedReply(zipPath: string, maxBytes: number, source: string): Promise<Readable> {
  const refuse = (why: string, cause?: unknown, dependsOn?: 'max_unzipped_bytes'): AckError =>
    new AckError(`The zipped reply ${source} ${why}; it was set aside.`, { cause, ...(dependsOn ? { dependsOn } : {}) });
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true, autoClose: false }, (err, zip) => {
      if (err || !zip) return reject(refuse(`cannot be opened (${libraryProblem(err?.message, 'not a zip file yauzl can read')})`, err));
      let closed = false;
      const close = (): void => {
        if (!closed) zip.close();
        closed = true;
      };
      let out: Transform | null = null;
      // yauzl reports a bad entry name (strictFileNames) and a damaged directory here; unheard, it would be thrown.
      zip.on('error', (e: Error) => {
        const failure = refuse(`is damaged or unsafe (${libraryProblem(e.message, 'a damaged directory or an entry name it refuses')})`, e);
        if (out) out.destroy(failure);
        else reject(failure);
        close();
      });
      if (zip.entryCount !== 1) {
        close();
        return reject(refuse(`holds ${zip.entryCount} entries; a reply holds exactly one`));
      }
      zip.once('entry', (entry: yauzl.Entry) => {
        // The entry's name is never repeated: it may hold a person's number.
        if (/[\\/]/.test(entry.fileName)) {
          close();
          return reject(refuse(`holds an entry whose name (${entry.fileName.length} characters) has a path in it`));
        }
        if (entry.uncompressedSize > maxBytes) {
          close();
          return reject(refuse(`holds an entry of ${entry.uncompressedSize} bytes, over the limit of ${maxBytes} once unzipped (MAILLON_MAX_UNZIPPED_BYTES)`, undefined, 'max_unzipped_bytes'));
        }
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) {
            close();
            return reject(refuse(`cannot be read (${libraryProblem(e?.message, 'its entry cannot be opened')})`, e));
          }
          let size = 0;
          out = new Transform({
            transform(chunk: Buffer, _enc, done) {
              size += chunk.length;
              if (size > maxBytes) done(refuse(`inflates beyond the limit of ${maxBytes} bytes once unzipped (MAILLON_MAX_UNZIPPED_BYTES)`, undefined, 'max_unzipped_bytes'));
              else done(null, chunk);
            },
          });
          stream.on('error', (se: Error) => out!.destroy(refuse(`is damaged (${libraryProblem(se.message, 'its entry does not inflate')})`, se)));
          out.on('close', () => {
            stream.destroy();
            close();
          });
          resolve(stream.pipe(out));
        });
      });
      zip.readEntry();
    });
  });
}
