import type { Environment } from '../domain/environment.js';
import { z } from 'zod';
import type { PoolClient } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import type { LocalDate } from '../period/localDate.js';
import { ledgerId } from './rowSchemas.js';
import type { SubmissionKind } from './transitions.js';

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
  /** Original, unless its receiver already holds the period (correction, replacement). */
  kind: SubmissionKind;
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

/**
 * Inserts submissions and their files inside the run's transaction, in two statements whatever
 * their number; returns the submission ids, in the order given.
 */
export async function insertSubmissions(client: PoolClient, subs: readonly { submission: SubmissionRow; files: readonly FileRow[] }[]): Promise<number[]> {
  if (subs.length === 0) return [];
  const col = <T>(pick: (s: SubmissionRow) => T): T[] => subs.map((x) => pick(x.submission));
  const inserted = await queryRows(
    client,
    `INSERT INTO maillon.submissions (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, state, created_at, kind)
     SELECT run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, 'written', created_at, kind
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::date[], $9::text[], $10::int[], $11::timestamptz[], $12::text[])
       WITH ORDINALITY AS s (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, created_at, kind, ord)
     ORDER BY ord
     RETURNING submission_id, sequence`,
    [
      col((s) => s.runId),
      col((s) => s.flow),
      col((s) => s.period),
      col((s) => s.environment),
      col((s) => s.receiver),
      col((s) => s.sender),
      col((s) => s.purpose),
      col((s) => s.creationDate),
      col((s) => s.sequence),
      col((s) => s.parts),
      col((s) => s.createdAt),
      col((s) => s.kind),
    ],
    z.object({ submission_id: ledgerId, sequence: z.string() }),
  );
  // Matched by sequence (unique within a run's sender, day and environment), not by row order.
  const idOf = new Map(inserted.map((r) => [r.sequence, r.submission_id]));
  const ids = subs.map((x) => idOf.get(x.submission.sequence)!);
  const files = subs.flatMap((x, i) => x.files.map((f) => ({ f, id: ids[i]!, s: x.submission })));
  if (files.length > 0) {
    const fcol = <T>(pick: (r: (typeof files)[number]) => T): T[] => files.map(pick);
    await client.query(
      `INSERT INTO maillon.files (submission_id, run_id, file_key, kind, name, part, receiver, path, records, bytes, sha256, created_at)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::timestamptz[])`,
      [
        fcol((r) => r.id),
        fcol((r) => r.s.runId),
        fcol((r) => r.f.fileKey),
        fcol((r) => r.f.kind),
        fcol((r) => r.f.name),
        fcol((r) => r.f.part),
        fcol((r) => r.f.receiver),
        fcol((r) => r.f.path),
        fcol((r) => r.f.records),
        fcol((r) => r.f.bytes),
        fcol((r) => r.f.sha256),
        fcol((r) => r.s.createdAt),
      ],
    );
  }
  return ids;
}
