import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Environment } from '../domain/environment.js';
import type { PoolClient } from '../db/database.js';
import { appendEvents } from '../ledger/events.js';
import { type FileRow, insertSubmissions, type SubmissionRow } from '../ledger/submissions.js';
import type { SubmissionKind } from '../ledger/transitions.js';
import { formatBatchFileName } from '../package/batchFileName.js';
import { publishFile, unpublishFile } from '../package/outbox.js';
import { allocateSequences } from '../package/sequences.js';
import type { LocalDate } from '../period/localDate.js';
import { formatSignature } from '../sign/signatureFormat.js';
import type { Signing } from '../sign/signingIdentity.js';
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
  /** Set when the submission's data files must be signed (FS files). */
  signing: Signing | null;
  tmpDir: string;
  runId: number;
  pipeline: AnyPipeline;
  period: string;
  environment: Environment;
  sender: string;
  creationDate: LocalDate;
  createdAt: Date;
  /** What each receiver's submission is: an original, unless the receiver holds the period (default original). */
  kinds?: (receiver: string) => SubmissionKind;
}

/**
 * Publishes the run's submissions inside its transaction: consecutive sequences, one per
 * receiver's submission (in the order given); each part named
 * FI.<purpose>.<sender>.<date>.<seq>.<env>.<parts>.<part> and linked into the outbox; then the
 * submission and file rows and their `written` events, a few statements for them all. Every file
 * is listed in `published` as soon as it is visible, so that a failure before COMMIT can take it
 * out again.
 */
export async function publishSubmissions(tx: PoolClient, outbox: string, c: SubmissionContext, rendered: readonly RenderedSubmission[], published: PublishedFile[]): Promise<void> {
  const sequences = await allocateSequences(tx, c.sender, c.creationDate, c.environment, rendered.length);
  const rows: { submission: SubmissionRow; files: FileRow[] }[] = [];
  for (const [k, s] of rendered.entries()) {
    const sequence = sequences[k]!;
    const parts = s.parts.length;
    const files: FileRow[] = [];
    for (const [i, p] of s.parts.entries()) {
      const stem = { purpose: c.pipeline.purpose, sender: c.sender, date: c.creationDate, sequence, environment: c.environment, parts, part: i + 1 };
      const name = formatBatchFileName({ kind: 'FI', ...stem });
      await setAsideOrphan(tx, outbox, name, c.runId);
      const finalPath = await publishFile(p.tmpPath, outbox, name);
      published.push({ name, path: finalPath, receiver: s.receiver, part: i + 1, parts, records: p.records, bytes: p.bytes, sha256: p.sha256, sequence });
      files.push({ fileKey: p.fileKey, kind: 'FI', name, part: i + 1, receiver: s.receiver, path: finalPath, records: p.records, bytes: p.bytes, sha256: p.sha256 });
      if (!c.signing) continue;
      // The detached signature of the data file's bytes, named like it (FS…), published the same way.
      const fsName = formatBatchFileName({ kind: 'FS', ...stem });
      await setAsideOrphan(tx, outbox, fsName, c.runId);
      const text = Buffer.from(formatSignature(await c.signing.signer.signFile(finalPath, c.createdAt), c.signing.layout), 'ascii');
      const tmp = path.join(c.tmpDir, `${fsName}.part`);
      await fs.writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
      const sha256 = createHash('sha256').update(text).digest('hex');
      const fsPath = await publishFile(tmp, outbox, fsName);
      published.push({ name: fsName, path: fsPath, receiver: s.receiver, part: i + 1, parts, records: 0, bytes: text.length, sha256, sequence });
      files.push({ fileKey: `${p.fileKey}:FS`, kind: 'FS', name: fsName, part: i + 1, receiver: s.receiver, path: fsPath, records: 0, bytes: text.length, sha256 });
    }
    rows.push({
      submission: {
        runId: c.runId,
        flow: c.pipeline.id,
        period: c.period,
        environment: c.environment,
        receiver: s.receiver,
        sender: c.sender,
        purpose: c.pipeline.purpose,
        creationDate: c.creationDate,
        sequence,
        parts,
        createdAt: c.createdAt,
        kind: c.kinds?.(s.receiver) ?? 'original',
      },
      files,
    });
  }
  const ids = await insertSubmissions(tx, rows);
  await appendEvents(
    tx,
    rows.map(({ submission: s, files }, k) => ({
      at: c.createdAt,
      submissionId: ids[k]!,
      kind: 'written',
      detail: {
        flow: c.pipeline.id,
        period: c.period,
        environment: c.environment,
        receiver: s.receiver,
        kind: s.kind,
        sequence: s.sequence,
        files: files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256 })),
      },
    })),
  );
}

/**
 * A file under a name the ledger does not know was left by a process killed between publishing
 * and committing (the sequence went back): it was never recorded nor sent, so it moves to
 * `.orphans/` (suffixed with the run that found it) instead of blocking the name. Called while
 * holding the sequence's row lock.
 */
async function setAsideOrphan(tx: PoolClient, outbox: string, name: string, runId: number): Promise<void> {
  if (!existsSync(path.join(outbox, name))) return;
  const known = await tx.query('SELECT 1 FROM maillon.files WHERE name = $1', [name]);
  if (known.rowCount) return;
  await fs.mkdir(path.join(outbox, '.orphans'), { recursive: true, mode: 0o700 });
  await fs.rename(path.join(outbox, name), path.join(outbox, '.orphans', `${name}.run${runId}`));
}

/** Removes published files again (their transaction did not commit). */
export async function unpublish(files: readonly PublishedFile[]): Promise<void> {
  for (const f of files) await unpublishFile(f.path);
}
