import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Clock } from '../clock/clock.js';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { extractBatches } from '../extract/extractRows.js';
import { isFinal } from '../ledger/transitions.js';
import { MaillonError } from '../errors/errors.js';
import { withEvidenceLock } from '../ledger/locks.js';
import { moveToOrphans } from '../system/orphans.js';
import { anchorPack } from './packAnchor.js';
import { checkOwnPack, packStanding } from './packOwnership.js';
import { createPackWriter, json, makeReadOnly, type ManifestEntry, type PackWriter } from './packWriter.js';
import { readReplies, writeReplies } from './packReplies.js';
import { addendaFolder, writeAddenda } from './replyAddenda.js';
import { makeWritable, sweepStaleTemps } from './staleTemps.js';

export type { ManifestEntry };

// The ledger rows the pack holds, as pg returns them (BIGINT as text, timestamptz as Date), in the
// order of their SELECT: the JSON files list the columns in that order.
const id = z.string();
const at = z.date();
const SubmissionRow = z.object({
  submission_id: id,
  run_id: id,
  flow: z.string(),
  period: z.string(),
  environment: z.string(),
  receiver: z.string(),
  sender: z.string(),
  purpose: z.string(),
  creation_date: z.string(),
  sequence: z.string(),
  parts: z.number(),
  state: z.string(),
  sent_at: at.nullable(),
  created_at: at,
});
type SubmissionRow = z.output<typeof SubmissionRow>;
const FileRow = z.object({
  name: z.string(),
  kind: z.string(),
  part: z.number(),
  path: z.string(),
  bytes: id,
  sha256: z.string(),
  ack_state: z.string().nullable(),
  ack_errors: z.array(z.string()).nullable(),
  noti_state: z.string().nullable(),
});
const AttemptRow = z.object({
  attempt_id: id,
  started_at: at,
  finished_at: at.nullable(),
  outcome: z.string().nullable(),
  server: z.string(),
  host_key: z.string().nullable(),
  detail: z.unknown(),
  error: z.string().nullable(),
});
const EventRow = z.object({ event_id: id, at, kind: z.string(), detail: z.unknown(), prev_hash: z.string(), hash: z.string() });
const RunRow = z.object({
  run_id: id,
  flow: z.string(),
  period: z.string(),
  environment: z.string(),
  as_of: at,
  extracted: z.number().nullable(),
  emitted: z.number().nullable(),
  quarantined: z.number().nullable(),
  facts: z.unknown(),
});

/** Folder of a submission's evidence pack. */
export function packFolder(evidenceDir: string, flow: string, period: string, env: string, submissionId: number): string {
  return path.join(evidenceDir, flow, period, env, `submission-${submissionId}`);
}

/** A folder that stood under a pack's name, not this submission's, moved into `.orphans/` (`to`). */
export interface MovedAside {
  folder: string;
  to: string;
}

/** Told of each folder moved aside while a pack is written (the caller says it: a warning). */
export type OnMovedAside = (moved: MovedAside) => void;

/**
 * Writes the evidence pack of a submission in a final state, once: the exact bytes sent (data
 * and signature files, checked against the ledger's sha256), the SFTP transcript (server, host
 * key, remote names, sizes, times, every attempt), every reply recorded about its files (applied,
 * in conflict or set aside) with its verification result and the entry holding its body,
 * the ledger events of the submission and its reconciliation summary, and a manifest of every
 * file with its sha256. Every file is streamed and hashed in the same pass (memory does not grow
 * with the files or the anomalies). Written in a temporary folder (removed when a step fails), its
 * manifest's sha256 recorded in the ledger as an `evidence_written` event (packAnchor.ts), made
 * read-only, then renamed. Returns the folder, or null when the submission is not final yet.
 *
 * One writer of a submission's pack at a time (withEvidenceLock): another one waits, then finds
 * the pack written. A pack already written is never rewritten: it is checked (checkOwnPack,
 * EvidenceMismatchError naming the pack and the file when it changed), and a reply the ledger
 * recorded after it gets its own addendum beside it (replyAddenda.ts). Whose pack a folder under
 * that name is, the ledger's anchor decides (packStanding): a pack of another submission (ids that
 * started again after a restore) is moved to `.orphans/` with its addenda, once the new pack is
 * complete, and `onMovedAside` is told where it went.
 */
export async function writeEvidencePack(ledger: Pool, evidenceDir: string, submissionId: number, clock: Clock, onMovedAside: OnMovedAside = () => undefined): Promise<string | null> {
  const sub = await queryFirst(
    ledger,
    `SELECT submission_id, run_id, flow, period, environment, receiver, sender, purpose, to_char(creation_date, 'YYYY-MM-DD') AS creation_date,
            sequence, parts, state, sent_at, created_at FROM maillon.submissions WHERE submission_id = $1`,
    [submissionId],
    SubmissionRow,
  );
  if (!sub || !isFinal(sub.state)) return null;
  return withEvidenceLock(ledger, submissionId, () => writeLocked(ledger, evidenceDir, sub, clock, onMovedAside));
}

/** writeEvidencePack, the submission's evidence lock held. */
async function writeLocked(ledger: Pool, evidenceDir: string, sub: SubmissionRow, clock: Clock, onMovedAside: OnMovedAside): Promise<string> {
  const submissionId = Number(sub.submission_id);
  const folder = packFolder(evidenceDir, sub.flow, sub.period, sub.environment, submissionId);
  const label = `${sub.flow}.${sub.period}.${sub.environment}.submission-${sub.submission_id}`;
  const foreign = existsSync(folder) && (await packStanding(ledger, folder, sub)) === 'foreign';
  if (existsSync(folder) && !foreign) {
    const inPack = await checkOwnPack(ledger, folder, submissionId);
    const dataFiles = await queryRows(ledger, `SELECT name FROM maillon.files WHERE submission_id = $1 AND kind = 'FI'`, [submissionId], z.object({ name: z.string() }));
    await writeAddenda(
      ledger,
      folder,
      { submission_id: sub.submission_id, created_at: sub.created_at, state: sub.state },
      inPack,
      dataFiles.map((f) => f.name),
      clock,
    );
    return folder;
  }
  await fs.mkdir(path.dirname(folder), { recursive: true, mode: 0o700 });
  await sweepStaleTemps(path.dirname(folder), new RegExp(`^\\.submission-${submissionId}-`), clock);
  const tmp = await fs.mkdtemp(path.join(path.dirname(folder), `.submission-${submissionId}-`));
  try {
    const manifest = await fillPack(ledger, createPackWriter(tmp), sub, folder);
    await anchorPack(ledger, clock, submissionId, path.basename(folder), manifest);
    await makeReadOnly(tmp);
    // Only now, the new pack complete: a pack of another submission under its name is moved aside.
    if (foreign) await moveAside(evidenceDir, folder, label, onMovedAside);
    // Addenda without their pack are another submission's, or follow a pack removed: the new pack holds every reply.
    if (existsSync(addendaFolder(folder))) await moveAside(evidenceDir, addendaFolder(folder), `${label}.addenda`, onMovedAside);
    await fs.rename(tmp, folder);
  } catch (err) {
    // Made read-only before its rename: made writable again to be removed.
    await makeWritable(tmp);
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return folder;
}

async function moveAside(evidenceDir: string, folder: string, label: string, onMovedAside: OnMovedAside): Promise<void> {
  const to = await moveToOrphans(evidenceDir, folder, label);
  if (to) onMovedAside({ folder, to });
}

/**
 * Writes the evidence of the submission(s) a data file belongs to (writeEvidencePack): called
 * when a reply about that file is recorded, whatever its outcome, so that a reply recorded after
 * the pack gets its addendum then. Nothing for a file the ledger does not know.
 */
export async function writeEvidenceOfFile(ledger: Pool, evidenceDir: string, fileName: string, clock: Clock, onMovedAside?: OnMovedAside): Promise<void> {
  const subs = await queryRows(ledger, `SELECT DISTINCT submission_id FROM maillon.files WHERE name = $1 ORDER BY submission_id`, [fileName], z.object({ submission_id: z.string() }));
  for (const s of subs) await writeEvidencePack(ledger, evidenceDir, Number(s.submission_id), clock, onMovedAside);
}

/** Fills the pack's folder; returns the bytes of its manifest.json. */
async function fillPack(ledger: Pool, pack: PackWriter, sub: SubmissionRow, folder: string): Promise<Buffer> {
  const submissionId = Number(sub.submission_id);
  const files = await queryRows(
    ledger,
    `SELECT name, kind, part, path, bytes, sha256, ack_state, ack_errors, noti_state FROM maillon.files WHERE submission_id = $1 ORDER BY part, kind`,
    [submissionId],
    FileRow,
  );
  for (const f of files) await copySent(pack, f, folder);
  const attempts = await queryRows(
    ledger,
    `SELECT attempt_id, started_at, finished_at, outcome, server, host_key, detail, error FROM maillon.transfer_attempts WHERE submission_id = $1 ORDER BY attempt_id`,
    [submissionId],
    AttemptRow,
  );
  await pack.write('transcript.json', json({ submission: sub, files: files.map(({ path: _p, ...f }) => f), attempts }));
  const names = files.filter((f) => f.kind === 'FI').map((f) => f.name);
  await writeReplies(pack, await readReplies(ledger, names));
  const events = await queryRows(ledger, `SELECT event_id, at, kind, detail, prev_hash, hash FROM maillon.events WHERE submission_id = $1 ORDER BY event_id`, [submissionId], EventRow);
  await pack.write('events.json', json(events));
  const run = await queryFirst(ledger, `SELECT run_id, flow, period, environment, as_of, extracted, emitted, quarantined, facts FROM maillon.runs WHERE run_id = $1`, [sub.run_id], RunRow);
  const submission = { state: sub.state, files: files.map((f) => ({ name: f.name, ack: f.ack_state, ackErrors: f.ack_errors, noti: f.noti_state })) };
  await pack.write('reconciliation.json', reconciliationJson(ledger, run, submission, submissionId));
  const manifest = json(pack.entries);
  await fs.writeFile(path.join(pack.folder, 'manifest.json'), manifest, { mode: 0o400 });
  return manifest;
}

/** Copies a file sent into the pack, refused (MaillonError naming the pack and the outbox file) when it is gone or changed. */
async function copySent(pack: PackWriter, f: { name: string; path: string; sha256: string }, folder: string): Promise<void> {
  let copied: ManifestEntry;
  try {
    copied = await pack.copy(`sent/${f.name}`, f.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new MaillonError(
      `The outbox file ${f.path}, the bytes sent as ${f.name}, is gone (archived or removed); the evidence pack ${folder} was not written. Put the file back where the ledger recorded it (from a backup), then write the pack again (maillon evidence).`,
      { cause: err },
    );
  }
  if (copied.sha256 !== f.sha256) {
    throw new MaillonError(
      `The outbox file ${f.path} no longer matches its sha256 in the ledger; the evidence pack was not written (${folder}). Put back the bytes sent as ${f.name} (from a backup), then write the pack again (maillon evidence).`,
    );
  }
}

/**
 * reconciliation.json, piece by piece: the run and the submission's files, then its anomalies
 * streamed from the ledger, one per line (a NOTI may hold hundreds of thousands).
 */
async function* reconciliationJson(ledger: Pool, run: unknown, submission: unknown, submissionId: number): AsyncGenerator<string> {
  const nested = (v: unknown): string => JSON.stringify(v, null, 2).replace(/\n/g, '\n  ');
  yield `{\n  "run": ${nested(run)},\n  "submission": ${nested(submission)},\n  "anomalies": [`;
  let first = true;
  for await (const batch of extractBatches(
    ledger,
    `
    SELECT json_build_object('ordinal', a.ordinal, 'source_key', o.source_key, 'blocking', a.blocking, 'code', a.code, 'description', a.description)
    FROM maillon.record_anomalies a LEFT JOIN maillon.record_outcomes o ON o.run_id = a.run_id AND o.ordinal = a.ordinal
    JOIN maillon.files f USING (file_id) WHERE f.submission_id = ${Number(submissionId)} ORDER BY a.anomaly_id`,
  )) {
    yield batch.map((a, i) => `${first && i === 0 ? '' : ','}\n    ${JSON.stringify(a)}`).join('');
    first = false;
  }
  yield first ? ']\n}\n' : '\n  ]\n}\n';
}
