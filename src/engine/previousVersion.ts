import type { Environment } from '../config/config.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { ledgerId } from '../ledger/rowSchemas.js';
import { extractRows } from '../extract/extractRows.js';
import { LIVE_STATES } from '../ledger/transitions.js';

/** What the receiver holds of one record, after every version sent so far. */
export interface SentRecord {
  hash: string;
  attestationId: string;
  receiver: string;
  /** The file and 1-based position where its last version is. */
  filePath: string;
  position: number;
  /** The sha256 of that file, as the ledger recorded it. */
  fileSha256: string;
  /** Where the flow's content of that version is in the file (bytes), for its cancellation; null for records sent before maillon kept it. */
  contentOffset: number | null;
  contentBytes: number | null;
}

/** The effective content of a period at the receivers: every version applied in order. */
export interface PreviousVersion {
  lastRunId: number;
  /** Versions written so far (held or not): the next one is numbered after them. */
  versions: number;
  records: Map<string, SentRecord>;
}

/**
 * Replays, through the lineage, every version of a period its receivers hold (the files of live
 * submissions: not cancelled, not rejected), oldest first: originals and replacements set a
 * record, cancellations remove it, and a full replacement first forgets what its receivers held
 * (it is the whole period for them: a record it leaves out is no longer held). Null when no
 * receiver holds anything. Holds one small entry per record (key, hash, id, place).
 */
export async function loadPreviousVersion(ledger: Pool, flow: string, period: string, env: Environment): Promise<PreviousVersion | null> {
  const runs = (await queryRows(
    ledger,
    `SELECT r.run_id, r.kind, array_agg(DISTINCT s.receiver) AS receivers FROM maillon.runs r
     JOIN maillon.submissions s ON s.run_id = r.run_id AND s.state = ANY($4::text[])
     WHERE r.flow = $1 AND r.period = $2 AND r.environment = $3 AND r.state = 'succeeded' AND NOT r.dry_run
     GROUP BY r.run_id, r.kind ORDER BY r.run_id`,
    [flow, period, env, LIVE_STATES],
    z.object({ run_id: ledgerId, kind: z.string(), receivers: z.array(z.string()) }),
  )).map((r) => ({ id: r.run_id, full: r.kind === 'full-replacement', receivers: new Set(r.receivers) }));
  if (runs.length === 0) return null;
  const records = new Map<string, SentRecord>();
  const rows = extractRows(
    ledger,
    `SELECT json_build_object('run', o.run_id, 'k', o.source_key, 'h', o.record_hash, 'id', o.attestation_id::text, 's', o.status, 'r', f.receiver, 'p', f.path, 'pos', o.position,
                             'sha', f.sha256, 'co', o.content_offset, 'cb', o.content_bytes)
     FROM maillon.record_outcomes o
     JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
     JOIN maillon.submissions s ON s.submission_id = f.submission_id AND s.state = ANY('{${LIVE_STATES.join(',')}}'::text[])
     WHERE o.run_id IN (${runs.map((r) => r.id).join(',')}) AND o.outcome = 'emitted' ORDER BY o.run_id, o.ordinal`,
  );
  let current = 0;
  for await (const raw of rows) {
    // One row per record sent (millions): shaped by the json_build_object above and not parsed row by
    // row, like every streamed lineage read (docs/decisions/0902-ledger-rows-parsed-where-read.md).
    const r = raw as { run: number; k: string; h: string; id: string; s: number; r: string; p: string; pos: number; sha: string; co: number | null; cb: number | null };
    if (r.run !== current) {
      current = r.run;
      const run = runs.find((x) => x.id === current)!;
      if (run.full) for (const [k, v] of records) if (run.receivers.has(v.receiver)) records.delete(k);
    }
    if (r.s === 1) records.delete(r.k);
    else records.set(r.k, { hash: r.h, attestationId: r.id, receiver: r.r, filePath: r.p, position: r.pos, fileSha256: r.sha, contentOffset: r.co, contentBytes: r.cb });
  }
  // Every version that was written counts, held or not: a new version never reuses the ids of one
  // the receivers saw and rejected.
  const written = await queryFirst(
    ledger,
    `SELECT count(*)::int AS n FROM maillon.runs r
     WHERE r.flow = $1 AND r.period = $2 AND r.environment = $3 AND r.state = 'succeeded' AND NOT r.dry_run
       AND EXISTS (SELECT 1 FROM maillon.submissions s WHERE s.run_id = r.run_id)`,
    [flow, period, env],
    z.object({ n: z.number() }),
  );
  return { lastRunId: runs.at(-1)!.id, versions: written!.n, records };
}
