import { createHash } from 'node:crypto';
import { createAnomalyStage } from '../../src/ack/anomalyStage.js';
import { type AppliedReply, applyReply } from '../../src/ack/applyReply.js';
import type { Acrf, Anomaly, Noti } from '../../src/ack/replyXml.js';
import { type Pool, type PoolClient, withTransaction } from '../../src/db/database.js';
import { parseBatchFileName } from '../../src/package/batchFileName.js';

/**
 * Applies a reply built in a test straight to the ledger, inside the caller's transaction, as
 * maillon acks would once it has read it: from the folder of the file's environment and receiver,
 * named for that environment, its anomalies staged by the same COPY. `name` must be unique per
 * test ledger.
 */
export async function applyTestReply(tx: PoolClient, name: string, at: Date, reply: Acrf | Noti): Promise<AppliedReply> {
  const environment = parseBatchFileName(reply.fileName).environment;
  const stage = createAnomalyStage(tx);
  if (reply.kind === 'NOTI') for (const a of reply.anomalies) await stage.add(a);
  await stage.end();
  const header = reply.kind === 'NOTI' ? { ...reply, anomalies: reply.anomalies.length } : reply;
  const sentTo = await tx.query<{ receiver: string }>(`SELECT s.receiver FROM maillon.files f JOIN maillon.submissions s USING (submission_id) WHERE f.name = $1`, [reply.fileName]);
  return applyReply(
    tx,
    {
      server: 'test',
      name,
      folder: environment === 'R' ? 'OUT' : 'OUTTEST',
      receivers: sentTo.rows.map((r) => r.receiver),
      nameEnvironment: environment,
      at,
      // Two replies saying different things never share a body.
      body: { localPath: `/nonexistent/${name}`, bytes: 0, sha256: createHash('sha256').update(JSON.stringify(reply)).digest('hex') },
      signature: null,
      listedMtime: null,
    },
    header,
    stage,
  );
}

/**
 * Applies, in one transaction at `at`, an ACRF accepting `fileName` (`FO.ACRF.<tag>`) and then a
 * NOTI about it (`FO.NOTI.<tag>`) with `result` and `anomalies`, each as applyTestReply does.
 */
export async function applyTestNoti(pool: Pool, tag: string, at: Date, fileName: string, result: Noti['result'], anomalies: Anomaly[]): Promise<void> {
  await withTransaction(pool, async (tx) => {
    await applyTestReply(tx, `FO.ACRF.${tag}`, at, { kind: 'ACRF', fileName, accepted: true, errorIds: [] });
    await applyTestReply(tx, `FO.NOTI.${tag}`, at, { kind: 'NOTI', fileName, result, anomalies });
  });
}

/** A record a run emitted, as a reply names it: its dossier key, its person's INSS and its AttestationID (digits). */
export interface EmittedRecord {
  source_key: string;
  record_key: string;
  attestation_id: string;
}

/** The records a run emitted (into its file `fileKey` only, when given), in the run's order. */
export async function emittedRecords(pool: Pool, runId: number, fileKey?: string): Promise<EmittedRecord[]> {
  const res = await pool.query<EmittedRecord>(
    `SELECT source_key, record_key, attestation_id::text FROM maillon.record_outcomes
     WHERE run_id = $1 AND ($2::text IS NULL OR file_key = $2) AND outcome = 'emitted' ORDER BY ordinal`,
    [runId, fileKey ?? null],
  );
  return res.rows;
}

/**
 * The file of a run that holds the most records (the first by name among equals) and its emitted
 * records, its GO recorded as started at `at`, as a send at `at` leaves it for its replies.
 */
export async function largestFileSentAt(pool: Pool, runId: number, at: Date): Promise<{ name: string; records: EmittedRecord[] }> {
  const files = await pool.query<{ name: string; submission_id: string; file_key: string }>(
    `SELECT name, submission_id, file_key FROM maillon.files WHERE run_id = $1 ORDER BY records DESC, name LIMIT 1`,
    [runId],
  );
  const file = files.rows[0]!;
  const records = await emittedRecords(pool, runId, file.file_key);
  await pool.query('UPDATE maillon.submissions SET go_started_at = $2 WHERE submission_id = $1', [file.submission_id, at]);
  return { name: file.name, records };
}
