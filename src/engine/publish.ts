import type { Environment } from '../config/config.js';
import type { PoolClient } from '../db/database.js';
import { appendEvent } from '../ledger/events.js';
import { insertSubmission } from '../ledger/submissions.js';
import { formatBatchFileName } from '../package/batchFileName.js';
import { publishFile, unpublishFile } from '../package/outbox.js';
import { allocateSequence } from '../package/sequences.js';
import type { LocalDate } from '../period/localDate.js';
import type { AnyPipeline } from './pipeline.js';
import type { RenderedSubmission } from './renderFiles.js';

/** A file as published in the outbox. */
export interface PublishedFile {
  name: string;
  path: string;
  receiver: string;
  part: number;
  parts: number;
  records: number;
  bytes: number;
  sha256: string;
  sequence: string;
}

/** The run facts every submission of it shares. */
export interface SubmissionContext {
  runId: number;
  pipeline: AnyPipeline;
  period: string;
  environment: Environment;
  sender: string;
  creationDate: LocalDate;
  createdAt: Date;
}

/**
 * Publishes one receiver's submission inside the run's transaction: one sequence for all its
 * parts, each part named FI.<purpose>.<sender>.<date>.<seq>.<env>.<parts>.<part>, linked into
 * the outbox, then the submission and file rows. Every file is listed in `published` as soon
 * as it is visible, so that a failure before COMMIT can take it out again.
 */
export async function publishSubmission(
  tx: PoolClient,
  outbox: string,
  c: SubmissionContext,
  s: RenderedSubmission,
  published: PublishedFile[],
): Promise<void> {
  const sequence = await allocateSequence(tx, c.sender, c.creationDate, c.environment);
  const parts = s.parts.length;
  const files = [];
  for (const [i, p] of s.parts.entries()) {
    const name = formatBatchFileName({
      kind: 'FI', purpose: c.pipeline.purpose, sender: c.sender, date: c.creationDate, sequence, environment: c.environment, parts, part: i + 1,
    });
    const finalPath = await publishFile(p.tmpPath, outbox, name);
    published.push({ name, path: finalPath, receiver: s.receiver, part: i + 1, parts, records: p.records, bytes: p.bytes, sha256: p.sha256, sequence });
    files.push({ fileKey: p.fileKey, kind: 'FI' as const, name, part: i + 1, receiver: s.receiver, path: finalPath, records: p.records, bytes: p.bytes, sha256: p.sha256 });
  }
  const submissionId = await insertSubmission(
    tx,
    {
      runId: c.runId, flow: c.pipeline.id, period: c.period, environment: c.environment, receiver: s.receiver, sender: c.sender,
      purpose: c.pipeline.purpose, creationDate: c.creationDate, sequence, parts, createdAt: c.createdAt,
    },
    files,
  );
  await appendEvent(tx, {
    at: c.createdAt,
    submissionId,
    kind: 'written',
    detail: { flow: c.pipeline.id, period: c.period, environment: c.environment, receiver: s.receiver, sequence, files: files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256 })) },
  });
}

/** Removes published files again (their transaction did not commit). */
export async function unpublish(files: readonly PublishedFile[]): Promise<void> {
  for (const f of files) await unpublishFile(f.path);
}
