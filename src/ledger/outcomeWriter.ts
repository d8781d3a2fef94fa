import { copyRow, createCopyIn } from '../db/copyIn.js';
import { z } from 'zod';
import type { PoolClient } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';
import { LedgerConflictError } from '../errors/errors.js';

/** Streams one row per extracted record into maillon.record_outcomes (COPY), inside the run's transaction. */
export interface OutcomeWriter {
  /** Returns a promise only when the COPY buffer is flushed (await it then). */
  /** `contentOffset`/`contentBytes`: where the record's content is in its file (identified records), else null. */
  emitted(o: {
    ordinal: number;
    sourceKey: string;
    recordKey: string | null;
    fileKey: string;
    position: number;
    attestationId: string;
    recordHash: string;
    status?: number;
    contentOffset: number | null;
    contentBytes: number | null;
  }): Promise<void> | undefined;
  /** Extracted in a rerun, identical to what the receiver has: not sent again. */
  unchanged(o: { ordinal: number; sourceKey: string; recordKey: string | null; attestationId: string; recordHash: string }): Promise<void> | undefined;
  quarantined(o: { ordinal: number; sourceKey: string; recordKey: string | null; rule: string; message: string }): Promise<void> | undefined;
  end(): Promise<void>;
}

const COLUMNS = 'run_id, ordinal, source_key, outcome, record_key, file_key, position, attestation_id, record_hash, rule, message, status, content_offset, content_bytes';

/** Starts the COPY of a run's outcomes. */
export function createOutcomeWriter(client: PoolClient, runId: number): OutcomeWriter {
  const copy = createCopyIn(client, `COPY maillon.record_outcomes (${COLUMNS}) FROM STDIN`);
  return {
    emitted: (o) =>
      copy.write(copyRow([runId, o.ordinal, o.sourceKey, 'emitted', o.recordKey, o.fileKey, o.position, o.attestationId, o.recordHash, null, null, o.status ?? 0, o.contentOffset, o.contentBytes])),
    unchanged: (o) => copy.write(copyRow([runId, o.ordinal, o.sourceKey, 'unchanged', o.recordKey, null, null, o.attestationId, o.recordHash, null, null, 0, null, null])),
    quarantined: (o) => copy.write(copyRow([runId, o.ordinal, o.sourceKey, 'quarantined', o.recordKey, null, null, null, null, o.rule, o.message, 0, null, null])),
    end: () => copy.end(),
  };
}

/**
 * Checks, in the run's transaction and before it commits, what the foreign keys of
 * record_outcomes checked row by row (migration 008): the run exists and every emitted or
 * cancelled record points to a file recorded for the run. One query, whatever the size.
 */
export async function checkOutcomes(client: PoolClient, runId: number): Promise<void> {
  const r = await queryFirst(
    client,
    `SELECT EXISTS (SELECT 1 FROM maillon.runs WHERE run_id = $1) AS run,
            count(*)::int AS orphans, min(o.file_key) AS example
     FROM maillon.record_outcomes o
     WHERE o.run_id = $1 AND o.file_key IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM maillon.files f WHERE f.run_id = o.run_id AND f.file_key = o.file_key)`,
    [runId],
    z.object({ run: z.boolean(), orphans: z.number(), example: z.string().nullable() }),
  ).then((row) => row!);
  if (!r.run || r.orphans > 0) {
    throw new LedgerConflictError(
      r.run
        ? `Run ${runId} placed ${r.orphans} record(s) in a file it did not record (${r.example}); nothing was committed. This is a defect of maillon: report it.`
        : `Run ${runId} is not in the ledger; its records were not committed.`,
    );
  }
}
