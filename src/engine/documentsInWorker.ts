import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { OutboxError } from '../errors/errors.js';
import { COMPILED, PACKAGE_ROOT } from '../system/packageRoot.js';
import type { DocumentWriter } from './documents.js';
import type { DocumentOutput, RecordContext } from './pipeline.js';

/**
 * Messages between the engine and its documents worker (src/engine/documentsWorker.ts). A batch
 * is the records' JSON texts: strings are far cheaper to post than objects to clone, and an
 * array of them cheaper than one string joined from them
 * (docs/decisions/0011-printable-documents-one-tar-per-run.md).
 */
export type ToWorker = { type: 'batch'; records: string[] } | { type: 'end' };
export type FromWorker = { type: 'ack' } | { type: 'done'; count: number } | { type: 'error'; message: string };

/** What the worker needs: where the documents' declaration is, the archive's folder, the context. */
export interface DocumentsWorkerData {
  module: string;
  source: NonNullable<DocumentOutput<unknown>['source']>;
  dir: string;
  ctx: RecordContext;
  mtime: string;
}

const BATCH = 256;
const IN_FLIGHT = 4;
const BOOT = path.join(PACKAGE_ROOT, 'bin', 'worker.mjs');
const WORKER_MODULE = new URL(`./documentsWorker.${COMPILED ? 'js' : 'ts'}`, import.meta.url).href;

/**
 * The document writer whose rendering and archiving run in a worker thread. Records are posted
 * in batches of 256; at most four batches wait in the worker, so memory stays flat.
 */
export function createWorkerDocumentWriter(source: NonNullable<DocumentOutput<unknown>['source']>, dir: string, ctx: RecordContext, mtime: Date): DocumentWriter {
  const data: DocumentsWorkerData = { module: WORKER_MODULE, source, dir, ctx, mtime: mtime.toISOString() };
  // A small heap: the worker holds one batch and a page at a time (the process must stay under 300 MB).
  const worker = new Worker(BOOT, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 96 } });
  let batch: string[] = [];
  let inFlight = 0;
  let count = 0;
  let failure: Error | null = null;
  let finished = false;
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  const fail = (message: string, cause?: unknown): void => {
    failure ??= new OutboxError(`The printable documents could not be written: ${message}${message.endsWith('.') ? '' : '.'}`, { cause });
    wake();
  };
  worker.on('message', (msg: FromWorker) => {
    if (msg.type === 'ack') inFlight--;
    else if (msg.type === 'done') {
      count = msg.count;
      finished = true;
    } else fail(msg.message);
    wake();
  });
  worker.on('error', (err: Error) => fail(err.message, err));
  worker.on('exit', (code) => {
    if (!finished) fail(`the documents worker stopped (exit code ${code})`);
  });
  const until = async (ready: () => boolean): Promise<void> => {
    while (!ready() && !failure) await new Promise<void>((resolve) => waiters.push(resolve));
    if (failure) throw failure;
  };
  const send = async (): Promise<void> => {
    const records = batch;
    batch = [];
    inFlight++;
    worker.postMessage({ type: 'batch', records } satisfies ToWorker);
    await until(() => inFlight < IN_FLIGHT);
  };
  return {
    write(_rec, json) {
      if (failure) throw failure;
      batch.push(json);
      return batch.length >= BATCH ? send() : undefined;
    },
    async flush() {
      if (batch.length > 0) await send();
      worker.postMessage({ type: 'end' } satisfies ToWorker);
      await until(() => finished);
      await worker.terminate();
    },
    count: () => count,
    discard() {
      finished = true;
      failure ??= new OutboxError('The printable documents were abandoned.');
      void worker.terminate();
    },
  };
}
