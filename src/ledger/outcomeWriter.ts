import { copyRow, createCopyIn } from '../db/copyIn.js';
import type { PoolClient } from '../db/database.js';

/** Streams one row per extracted record into maillon.record_outcomes (COPY), inside the run's transaction. */
export interface OutcomeWriter {
  /** Returns a promise only when the COPY buffer is flushed (await it then). */
  emitted(o: { ordinal: number; sourceKey: string; recordKey: string | null; fileKey: string; position: number; attestationId: string; recordHash: string; status?: number }): Promise<void> | undefined;
  /** Extracted in a rerun, identical to what the receiver has: not sent again. */
  unchanged(o: { ordinal: number; sourceKey: string; recordKey: string | null; attestationId: string; recordHash: string }): Promise<void> | undefined;
  quarantined(o: { ordinal: number; sourceKey: string; recordKey: string | null; rule: string; message: string }): Promise<void> | undefined;
  end(): Promise<void>;
}

const COLUMNS = 'run_id, ordinal, source_key, outcome, record_key, file_key, position, attestation_id, record_hash, rule, message, status';

/** Starts the COPY of a run's outcomes. */
export function createOutcomeWriter(client: PoolClient, runId: number): OutcomeWriter {
  const copy = createCopyIn(client, `COPY maillon.record_outcomes (${COLUMNS}) FROM STDIN`);
  return {
    emitted: (o) =>
      copy.write(copyRow([runId, o.ordinal, o.sourceKey, 'emitted', o.recordKey, o.fileKey, o.position, o.attestationId, o.recordHash, null, null, o.status ?? 0])),
    unchanged: (o) =>
      copy.write(copyRow([runId, o.ordinal, o.sourceKey, 'unchanged', o.recordKey, null, null, o.attestationId, o.recordHash, null, null, 0])),
    quarantined: (o) =>
      copy.write(copyRow([runId, o.ordinal, o.sourceKey, 'quarantined', o.recordKey, null, null, null, null, o.rule, o.message, 0])),
    end: () => copy.end(),
  };
}
