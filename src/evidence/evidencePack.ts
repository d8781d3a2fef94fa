import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../db/database.js';
import { isFinal } from '../ledger/transitions.js';


/** One file of a pack, as its manifest lists it. */
export interface ManifestEntry {
  path: string;
  bytes: number;
  sha256: string;
}

/** Folder of a submission's evidence pack. */
export function packFolder(evidenceDir: string, flow: string, period: string, env: string, submissionId: number): string {
  return path.join(evidenceDir, flow, period, env, `submission-${submissionId}`);
}

/**
 * Writes the evidence pack of a submission in a final state, once: the exact bytes sent (data
 * and signature files, checked against the ledger's sha256), the SFTP transcript (server, host
 * key, remote names, sizes, times, every attempt), the replies with their verification result,
 * the ledger events of the submission and its reconciliation summary, and a manifest of every
 * file with its sha256. Written in a temporary folder and renamed; then read-only. Returns the
 * folder, or null when the submission is not final yet. A pack already written is left as it is.
 */
export async function writeEvidencePack(ledger: Pool, evidenceDir: string, submissionId: number): Promise<string | null> {
  const sub = (await ledger.query(
    `SELECT submission_id, run_id, flow, period, environment, receiver, sender, purpose, to_char(creation_date, 'YYYY-MM-DD') AS creation_date,
            sequence, parts, state, sent_at, created_at FROM maillon.submissions WHERE submission_id = $1`,
    [submissionId],
  )).rows[0];
  if (!sub || !isFinal(sub.state)) return null;
  const folder = packFolder(evidenceDir, sub.flow, sub.period, sub.environment, submissionId);
  if (existsSync(folder)) return folder;
  await fs.mkdir(path.dirname(folder), { recursive: true, mode: 0o700 });
  const tmp = await fs.mkdtemp(path.join(path.dirname(folder), `.submission-${submissionId}-`));
  const files = (await ledger.query(`SELECT name, kind, part, path, bytes, sha256, ack_state, ack_errors, noti_state FROM maillon.files WHERE submission_id = $1 ORDER BY part, kind`, [submissionId])).rows;
  const entries: ManifestEntry[] = [];
  const add = async (rel: string, content: Buffer): Promise<void> => {
    await fs.mkdir(path.join(tmp, path.dirname(rel)), { recursive: true });
    await fs.writeFile(path.join(tmp, rel), content, { mode: 0o400 });
    entries.push({ path: rel, bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') });
  };
  for (const f of files) {
    const bytes = await fs.readFile(f.path);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== f.sha256) throw new Error(`the outbox file ${f.path} no longer matches its sha256 in the ledger; the evidence pack was not written`);
    await add(`sent/${f.name}`, bytes);
  }
  const attempts = (await ledger.query(`SELECT attempt_id, started_at, finished_at, outcome, server, host_key, detail, error FROM maillon.transfer_attempts WHERE submission_id = $1 ORDER BY attempt_id`, [submissionId])).rows;
  await add('transcript.json', json({ submission: sub, files: files.map(({ path: _p, ...f }) => f), attempts }));
  const names = files.filter((f) => f.kind === 'FI').map((f) => f.name);
  const replies = (await ledger.query(`SELECT name, server, received_at, bytes, sha256, local_path, state, reason, kind, file_name, signature FROM maillon.replies WHERE file_name = ANY($1) ORDER BY reply_id`, [names])).rows;
  for (const r of replies) if (r.local_path && existsSync(r.local_path)) await add(`replies/${r.name}`, await fs.readFile(r.local_path));
  await add('replies.json', json(replies.map(({ local_path: _l, ...r }) => r)));
  const events = (await ledger.query(`SELECT event_id, at, kind, detail, prev_hash, hash FROM maillon.events WHERE submission_id = $1 ORDER BY event_id`, [submissionId])).rows;
  await add('events.json', json(events));
  const run = (await ledger.query(`SELECT run_id, flow, period, environment, as_of, extracted, emitted, quarantined, facts FROM maillon.runs WHERE run_id = $1`, [sub.run_id])).rows[0];
  const anomalies = (await ledger.query(`SELECT a.ordinal, o.source_key, a.blocking, a.code, a.description FROM maillon.record_anomalies a LEFT JOIN maillon.record_outcomes o ON o.run_id = a.run_id AND o.ordinal = a.ordinal JOIN maillon.files f USING (file_id) WHERE f.submission_id = $1 ORDER BY a.anomaly_id`, [submissionId])).rows;
  await add('reconciliation.json', json({ run, submission: { state: sub.state, files: files.map((f) => ({ name: f.name, ack: f.ack_state, ackErrors: f.ack_errors, noti: f.noti_state })) }, anomalies }));
  await fs.writeFile(path.join(tmp, 'manifest.json'), json(entries), { mode: 0o400 });
  await makeReadOnly(tmp);
  await fs.rename(tmp, folder);
  return folder;
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
