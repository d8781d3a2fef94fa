import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { extractBatches } from '../extract/extractRows.js';
import { isFinal } from '../ledger/transitions.js';
import { moveToOrphans } from '../system/orphans.js';
import { createPackWriter, type ManifestEntry, type PackWriter } from './packWriter.js';

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
const ReplyRow = z.object({
  reply_id: id,
  name: z.string(),
  server: z.string(),
  received_at: at,
  bytes: id.nullable(),
  sha256: z.string().nullable(),
  local_path: z.string().nullable(),
  state: z.string(),
  reason: z.string().nullable(),
  kind: z.string().nullable(),
  file_name: z.string().nullable(),
  signature: z.string().nullable(),
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

/**
 * Writes the evidence pack of a submission in a final state, once: the exact bytes sent (data
 * and signature files, checked against the ledger's sha256), the SFTP transcript (server, host
 * key, remote names, sizes, times, every attempt), every reply recorded about its files (applied,
 * in conflict or set aside) with its verification result and the entry holding its body,
 * the ledger events of the submission and its reconciliation summary, and a manifest of every
 * file with its sha256. Every file is streamed and hashed in the same pass (memory does not grow
 * with the files or the anomalies). Written in a temporary folder (removed when a step fails) and
 * renamed; then read-only. Returns the folder, or null when the submission is not final yet. A
 * pack already written is left as it is; a pack of another submission under the same folder (ids
 * that started again) is moved to `.orphans/` first.
 */
export async function writeEvidencePack(ledger: Pool, evidenceDir: string, submissionId: number): Promise<string | null> {
  const sub = await queryFirst(
    ledger,
    `SELECT submission_id, run_id, flow, period, environment, receiver, sender, purpose, to_char(creation_date, 'YYYY-MM-DD') AS creation_date,
            sequence, parts, state, sent_at, created_at FROM maillon.submissions WHERE submission_id = $1`,
    [submissionId],
    SubmissionRow,
  );
  if (!sub || !isFinal(sub.state)) return null;
  const folder = packFolder(evidenceDir, sub.flow, sub.period, sub.environment, submissionId);
  if (existsSync(folder)) {
    if (await isPackOf(folder, sub)) return folder;
    await moveToOrphans(evidenceDir, folder, `${sub.flow}.${sub.period}.${sub.environment}.submission-${sub.submission_id}`);
  }
  await fs.mkdir(path.dirname(folder), { recursive: true, mode: 0o700 });
  const tmp = await fs.mkdtemp(path.join(path.dirname(folder), `.submission-${submissionId}-`));
  try {
    await fillPack(ledger, createPackWriter(tmp), sub, submissionId);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await makeReadOnly(tmp);
  await fs.rename(tmp, folder);
  return folder;
}

/**
 * True when the pack in `folder` is this submission's: its transcript names the same submission,
 * created at the same instant. Submission ids start again in a ledger restored from an older
 * backup: such a pack is of another submission.
 */
async function isPackOf(folder: string, sub: SubmissionRow): Promise<boolean> {
  let text: string;
  try {
    text = await fs.readFile(path.join(folder, 'transcript.json'), 'utf8');
  } catch (err) {
    // No transcript: not a pack of ours. Any other failure to read is not a verdict on the pack.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  let t: { submission?: { submission_id?: unknown; created_at?: unknown } } | null;
  try {
    t = JSON.parse(text) as typeof t;
  } catch {
    return false;
  }
  return t?.submission?.submission_id === sub.submission_id && t.submission.created_at === sub.created_at.toISOString();
}

async function fillPack(ledger: Pool, pack: PackWriter, sub: SubmissionRow, submissionId: number): Promise<void> {
  const files = await queryRows(
    ledger,
    `SELECT name, kind, part, path, bytes, sha256, ack_state, ack_errors, noti_state FROM maillon.files WHERE submission_id = $1 ORDER BY part, kind`,
    [submissionId],
    FileRow,
  );
  for (const f of files) {
    const copied = await pack.copy(`sent/${f.name}`, f.path);
    if (copied.sha256 !== f.sha256) throw new Error(`the outbox file ${f.path} no longer matches its sha256 in the ledger; the evidence pack was not written`);
  }
  const attempts = await queryRows(
    ledger,
    `SELECT attempt_id, started_at, finished_at, outcome, server, host_key, detail, error FROM maillon.transfer_attempts WHERE submission_id = $1 ORDER BY attempt_id`,
    [submissionId],
    AttemptRow,
  );
  await pack.write('transcript.json', json({ submission: sub, files: files.map(({ path: _p, ...f }) => f), attempts }));
  const names = files.filter((f) => f.kind === 'FI').map((f) => f.name);
  await writeReplies(ledger, pack, names);
  const events = await queryRows(ledger, `SELECT event_id, at, kind, detail, prev_hash, hash FROM maillon.events WHERE submission_id = $1 ORDER BY event_id`, [submissionId], EventRow);
  await pack.write('events.json', json(events));
  const run = await queryFirst(ledger, `SELECT run_id, flow, period, environment, as_of, extracted, emitted, quarantined, facts FROM maillon.runs WHERE run_id = $1`, [sub.run_id], RunRow);
  const submission = { state: sub.state, files: files.map((f) => ({ name: f.name, ack: f.ack_state, ackErrors: f.ack_errors, noti: f.noti_state })) };
  await pack.write('reconciliation.json', reconciliationJson(ledger, run, submission, submissionId));
  await fs.writeFile(path.join(pack.folder, 'manifest.json'), json(pack.entries), { mode: 0o400 });
}

/**
 * The replies recorded about the submission's files, whatever their state (an auditor sees the
 * conflicts and the set-aside ones too, marked): each kept body under its own entry, and
 * replies.json naming, for each reply (server, name), the entry holding its body.
 */
async function writeReplies(ledger: Pool, pack: PackWriter, fileNames: readonly string[]): Promise<void> {
  const replies = await queryRows(
    ledger,
    `SELECT reply_id, name, server, received_at, bytes, sha256, local_path, state, reason, kind, file_name, signature FROM maillon.replies WHERE file_name = ANY($1) ORDER BY reply_id`,
    [fileNames],
    ReplyRow,
  );
  const entries = replyEntries(replies);
  const listed = [];
  for (const [i, { local_path: from, ...r }] of replies.entries()) listed.push({ ...r, ...(await keepBody(pack, entries[i]!, from, r.sha256)) });
  await pack.write('replies.json', json(listed));
}

/**
 * What the pack says of a reply's body (`body`), never silent: `kept` under `entry`, its bytes
 * those the ledger hashed when the reply was recorded; `unverified` (kept, but the ledger holds no
 * sha256 to check it against); `not kept` (the ledger kept no body: not downloaded); `missing` (the
 * ledger's copy is gone); `differs` (the ledger's copy no longer has the sha256 recorded: not put
 * in the pack, its bytes and sha256 now given as `found`). Only the ledger's bytes enter a pack.
 */
async function keepBody(
  pack: PackWriter,
  entry: string,
  from: string | null,
  sha256: string | null,
): Promise<{ entry: string | null; body: 'kept' | 'unverified' | 'not kept' | 'missing' | 'differs'; found?: { bytes: number; sha256: string } }> {
  if (!from) return { entry: null, body: 'not kept' };
  if (!existsSync(from)) return { entry: null, body: 'missing' };
  if (sha256 === null) return { entry: (await pack.copy(entry, from)).path, body: 'unverified' };
  const copied = await pack.copyIfMatches(entry, from, sha256);
  return copied.kept ? { entry, body: 'kept' } : { entry: null, body: 'differs', found: { bytes: copied.bytes, sha256: copied.sha256 } };
}

/**
 * The pack entry of each reply's body, in the order given: `replies/<name>`, or, for a name an
 * earlier reply already took (the same name recorded from another server or folder: a replay),
 * `replies/<name>.reply-<reply_id>`. Every reply of the ledger keeps its own entry.
 */
function replyEntries(replies: readonly { reply_id: string; name: string }[]): string[] {
  const taken = new Set<string>();
  return replies.map((r) => {
    const entry = taken.has(`replies/${r.name}`) ? `replies/${r.name}.reply-${r.reply_id}` : `replies/${r.name}`;
    taken.add(entry);
    return entry;
  });
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

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

async function makeReadOnly(dir: string): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await makeReadOnly(path.join(dir, e.name));
  }
  await fs.chmod(dir, 0o500);
}
