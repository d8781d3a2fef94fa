import type http from 'node:http';

/** The largest form body the status server reads, in bytes: a trace key is at most 4 KiB, encoded. */
export const MAX_FORM_BYTES = 16 * 1024;

/** Why a form body was not read: too large (413) or not a form (415). */
export type FormRefusal = { status: 413 | 415; message: string };

/**
 * Reads an `application/x-www-form-urlencoded` request body of at most `limit` bytes, stopping as
 * soon as it is over: the fields, or the refusal to answer with.
 */
export async function readFormBody(req: http.IncomingMessage, limit = MAX_FORM_BYTES): Promise<URLSearchParams | FormRefusal> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return { status: 415, message: 'This form takes an application/x-www-form-urlencoded body, as a browser sends it.' };
  const tooLarge: FormRefusal = { status: 413, message: `This form takes at most ${limit} bytes.` };
  if (Number(req.headers['content-length'] ?? 0) > limit) return tooLarge;
  const body = await new Promise<Buffer | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      chunks.push(chunk);
      if (size <= limit) return;
      // Stop reading without destroying the socket, so that the 413 can still be written.
      req.off('data', onData);
      req.pause();
      resolve(null);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
  return body === null ? tooLarge : new URLSearchParams(body.toString('utf8'));
}
