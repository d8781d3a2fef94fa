// Entry point of maillon's worker threads: the module named in workerData runs; from the
// TypeScript sources (a checkout), through tsx's loader, which a worker must register for itself.
import { workerData } from 'node:worker_threads';

if (workerData.module.endsWith('.ts')) (await import('tsx/esm/api')).register();
await import(workerData.module);
