import type { Environment } from '../config/config.js';
import type { PoolClient } from '../db/database.js';
import type { LocalDate } from '../period/localDate.js';

/** A submission to one receiver: its files share one sequence. */
export interface SubmissionRow {
  runId: number;
  flow: string;
  period: string;
  environment: Environment;
  receiver: string;
  sender: string;
  purpose: string;
  creationDate: LocalDate;
  sequence: string;
  parts: number;
  createdAt: Date;
}

/** A file of a submission, as published in the outbox. */
export interface FileRow {
  fileKey: string;
  kind: 'FI' | 'FS' | 'GO' | 'TD';
  name: string;
  part: number;
  receiver: string;
  path: string;
  records: number;
  bytes: number;
  sha256: string;
}

/** Inserts a submission and its files inside the run's transaction; returns the submission id. */
export async function insertSubmission(client: PoolClient, s: SubmissionRow, files: readonly FileRow[]): Promise<number> {
  const res = await client.query<{ submission_id: string }>(
    `INSERT INTO maillon.submissions (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, state, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'written', $11) RETURNING submission_id`,
    [s.runId, s.flow, s.period, s.environment, s.receiver, s.sender, s.purpose, s.creationDate, s.sequence, s.parts, s.createdAt],
  );
  const id = Number(res.rows[0]!.submission_id);
  for (const f of files) {
    await client.query(
      `INSERT INTO maillon.files (submission_id, run_id, file_key, kind, name, part, receiver, path, records, bytes, sha256, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [id, s.runId, f.fileKey, f.kind, f.name, f.part, f.receiver, f.path, f.records, f.bytes, f.sha256, s.createdAt],
    );
  }
  return id;
}
