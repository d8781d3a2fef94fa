// Entry point of maillon's worker threads: TypeScript sources run through tsx's loader, which a
// worker must register for itself; then the module named in workerData runs.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
