/**
 * The documents worker thread (started by src/engine/documentsInWorker.ts through
 * bin/worker.mjs): renders each record's printable document and appends it to the run's
 * archive, one batch at a time, acknowledging each batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createArchiveWriter } from './documents.js';
import type { DocumentsWorkerData, FromWorker, ToWorker } from './documentsInWorker.js';
import type { DocumentOutput } from './pipeline.js';

const data = workerData as DocumentsWorkerData;
const port = parentPort!;
const post = (msg: FromWorker): void => port.postMessage(msg);

try {
  const mod = (await import(data.source.module)) as Record<string, DocumentOutput<unknown>>;
  const out = mod[data.source.exportName];
  if (!out) throw new Error(`${data.source.exportName} is not exported by ${data.source.module}`);
  const writer = await createArchiveWriter(out, data.dir, data.ctx, new Date(data.mtime));
  let queue = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    queue = queue
      .then(async () => {
        if (msg.type === 'batch') {
          for (const json of msg.records) {
            const writing = writer.write(JSON.parse(json), json);
            if (writing) await writing;
          }
          post({ type: 'ack' });
        } else {
          await writer.flush();
          post({ type: 'done', count: writer.count() });
        }
      })
      .catch((err: unknown) => {
        writer.discard();
        post({ type: 'error', message: (err as Error).message });
      });
  });
} catch (err) {
  post({ type: 'error', message: (err as Error).message });
}
