import type { Environment } from '../config/config.js';
import type { Pool } from '../db/database.js';
import { extractRows } from '../extract/extractRows.js';

/** What the receiver holds of one record, after every version sent so far. */
export interface SentRecord {
  hash: string;
  attestationId: string;
  receiver: string;
  /** The file and 1-based position (one record per line after the header) where its last version is. */
  filePath: string;
  position: number;
}

/** The effective content of a period at the receivers: every version applied in order. */
export interface PreviousVersion {
  lastRunId: number;
  versions: number;
  records: Map<string, SentRecord>;
}

/**
 * Replays, through the lineage, every version of a period that was sent (runs whose submissions
 * were not cancelled), oldest first: originals and replacements set a record, cancellations remove
 * it. Null when nothing was sent yet. Holds one small entry per record (key, hash, id, place).
 */
export async function loadPreviousVersion(ledger: Pool, flow: string, period: string, env: Environment): Promise<PreviousVersion | null> {
  const runs = (await ledger.query<{ run_id: string }>(
    `SELECT r.run_id FROM maillon.runs r
     WHERE r.flow = $1 AND r.period = $2 AND r.environment = $3 AND r.state = 'succeeded' AND NOT r.dry_run
       AND EXISTS (SELECT 1 FROM maillon.submissions s WHERE s.run_id = r.run_id AND s.state <> 'cancelled')
     ORDER BY r.run_id`,
    [flow, period, env],
  )).rows.map((r) => Number(r.run_id));
  if (runs.length === 0) return null;
  const records = new Map<string, SentRecord>();
  const rows = extractRows(
    ledger,
    `SELECT json_build_object('k', o.source_key, 'h', o.record_hash, 'id', o.attestation_id::text, 's', o.status, 'r', f.receiver, 'p', f.path, 'pos', o.position)
     FROM maillon.record_outcomes o JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
     WHERE o.run_id IN (${runs.join(',')}) AND o.outcome = 'emitted' ORDER BY o.run_id, o.ordinal`,
  );
  for await (const raw of rows) {
    const r = raw as { k: string; h: string; id: string; s: number; r: string; p: string; pos: number };
    if (r.s === 1) records.delete(r.k);
    else records.set(r.k, { hash: r.h, attestationId: r.id, receiver: r.r, filePath: r.p, position: r.pos });
  }
  return { lastRunId: runs.at(-1)!, versions: runs.length, records };
}
