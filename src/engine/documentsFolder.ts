import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Environment } from '../domain/environment.js';
import { OutboxError } from '../errors/errors.js';
import { moveToOrphans } from '../system/orphans.js';

/**
 * Where a run writes its printable documents before it commits: a fresh folder under the
 * documents folder's `.tmp/` (the same file system as their final place, so that keeping them is
 * a rename), or under the run's own temporary folder for a dry run.
 */
export async function makeDocumentsTmp(documentsDir: string, dryRun: boolean, dryTmp: string): Promise<string> {
  if (dryRun) return fs.mkdtemp(path.join(dryTmp, 'documents-'));
  try {
    await fs.mkdir(path.join(documentsDir, '.tmp'), { recursive: true, mode: 0o700 });
    return await fs.mkdtemp(path.join(documentsDir, '.tmp', 'run-'));
  } catch (err) {
    throw new OutboxError(`Cannot prepare the documents folder ${documentsDir}: ${(err as Error).message}. Set MAILLON_DOCUMENTS to a writable folder.`, { cause: err });
  }
}

/**
 * Moves the run's documents to their folder, named after the run. A folder already there under that
 * name belongs to no run of this ledger (the ledger was restored from a backup older than the
 * documents): it is moved to `.orphans/` with the run that found it, as the outbox does with its
 * files, instead of failing every run that gets that id. One ledger per folder: two ledgers
 * sharing it would move each other's documents aside (docs/configuration.md).
 */
export async function keepDocuments(documentsDir: string, tmp: string, flow: string, period: string, env: Environment, runId: number): Promise<string> {
  const parent = path.join(documentsDir, flow, period, env);
  await fs.mkdir(parent, { recursive: true, mode: 0o700 });
  const folder = path.join(parent, `run-${runId}`);
  if (existsSync(folder)) await moveToOrphans(documentsDir, folder, `${flow}.${period}.${env}.run-${runId}`);
  await fs.rename(tmp, folder);
  return folder;
}
