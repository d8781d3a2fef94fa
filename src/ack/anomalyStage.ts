import { type CopyIn, copyRow, createCopyIn } from '../db/copyIn.js';
import type { PoolClient } from '../db/database.js';
import type { Anomaly } from './replyXml.js';

/**
 * A NOTI's anomalies on their way to the ledger, inside the reply's transaction: streamed by
 * one COPY into a temporary table (dropped at commit), then matched to the records and stored
 * by one statement, whatever their number.
 */
export interface AnomalyStage {
  /** Queues one anomaly; returns a promise only when the COPY buffer is flushed (await it then). */
  add(a: Anomaly): Promise<void> | undefined;
  /** Ends the COPY; the staged anomalies can then be stored. */
  end(): Promise<void>;
  /** Abandons the COPY after a failure, so that the transaction can be rolled back. */
  abort(reason: Error): Promise<void>;
  /**
   * Stores the staged anomalies in maillon.record_anomalies, each matched to the record of the file
   * with its AttestationID when it gives one, else to the first emitted record with its INSS.
   * `otherInss`: anomalies matched by their AttestationID that give another INSS than their record's.
   */
  store(target: { replyId: number; fileId: number; runId: number; fileKey: string }): Promise<StoredAnomalies>;
  /**
   * Compares the staged anomalies with those the ledger holds about the file (any reply's): how
   * many it adds and how many of those block, and whether they are exactly those of reply
   * `replyId` (the NOTI applied to the file), in any order. Anomalies are compared as multisets by
   * INSS, AttestationID, class and code (not by description).
   */
  compare(target: { runId: number; fileId: number; replyId: number }): Promise<AnomalyComparison>;
  /** Drops from the stage the anomalies the ledger already holds about the file (as compare counts them): store() then stores only the others. */
  dropKnown(target: { runId: number; fileId: number }): Promise<void>;
}

/** How a NOTI's anomalies compare with those already recorded about its file. */
export interface AnomalyComparison {
  /** Anomalies no reply about the file gave before (one given twice and recorded once counts once). */
  added: number;
  /** Of those, the blocking ones. */
  addedBlocking: number;
  /** Exactly the anomalies of the reply compared with (the same multiset). */
  same: boolean;
}

/** What storing a NOTI's anomalies did. */
export interface StoredAnomalies {
  stored: number;
  unmatched: number;
  otherInss: number;
}

/** Starts a stage on the transaction's client; the temporary table is made with the first anomaly. */
export function createAnomalyStage(tx: PoolClient): AnomalyStage {
  let copy: CopyIn | null = null;
  let n = 0;
  let starting: Promise<void> | null = null;
  const start = async (): Promise<void> => {
    await tx.query(
      `CREATE TEMPORARY TABLE reply_anomalies (n integer NOT NULL, inss text, attestation_id text, blocking boolean NOT NULL, code text NOT NULL, description text NOT NULL) ON COMMIT DROP`,
    );
    copy = createCopyIn(tx, 'COPY reply_anomalies (n, inss, attestation_id, blocking, code, description) FROM STDIN');
  };
  return {
    add(a) {
      const line = copyRow([++n, a.inss, a.attestationId, a.blocking ? 't' : 'f', a.code, a.description]);
      if (copy) return copy.write(line);
      starting ??= start();
      return starting.then(() => copy!.write(line));
    },
    async end() {
      if (starting) await starting;
      if (copy) await copy.end();
    },
    async abort(reason) {
      if (starting) await starting.catch(() => undefined);
      if (copy) await copy.abort(reason);
    },
    async store(t) {
      if (n === 0) return { stored: 0, unmatched: 0, otherInss: 0 };
      await tx.query(MATCH_SETTINGS);
      const res = await tx.query<{ stored: number; unmatched: number; other_inss: number }>(STORE_ANOMALIES, [t.replyId, t.fileId, t.runId, t.fileKey]);
      await tx.query(MATCH_SETTINGS_END);
      const row = res.rows[0]!;
      return { stored: row.stored, unmatched: row.unmatched, otherInss: row.other_inss };
    },
    async compare(t) {
      if (n === 0) {
        const res = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM maillon.record_anomalies WHERE run_id = $1 AND file_id = $2 AND reply_id = $3`, [t.runId, t.fileId, t.replyId]);
        return { added: 0, addedBlocking: 0, same: res.rows[0]!.n === 0 };
      }
      await tx.query(MATCH_SETTINGS);
      const res = await tx.query<{ added: number; added_blocking: number; same: boolean }>(COMPARE_ANOMALIES, [t.runId, t.fileId, t.replyId]);
      await tx.query(MATCH_SETTINGS_END);
      const row = res.rows[0]!;
      return { added: row.added, addedBlocking: row.added_blocking, same: row.same };
    },
    async dropKnown(t) {
      if (n === 0) return;
      await tx.query(MATCH_SETTINGS);
      await tx.query(DROP_KNOWN_ANOMALIES, [t.runId, t.fileId]);
      await tx.query(MATCH_SETTINGS_END);
    },
  };
}

/**
 * Before the match, in the reply's transaction only: statistics of the staged anomalies, room to
 * sort a large NOTI's matches in memory, and no nested loop. The run's lineage rows were written
 * by a COPY that autovacuum has usually not analysed yet: the planner then takes the file's
 * records for a handful and nests a scan of every anomaly inside a scan of every record of the
 * file, which at 1.3M records and 1 % anomalies is about 10^10 comparisons (100,000 affiliates:
 * 12.1 s for one NOTI of 873 anomalies; with hash joins 0.04 s). No JIT: a plan that cannot avoid
 * a nested loop is then priced at 10^10, and PostgreSQL compiled it with full optimisation, about
 * 120 ms for a statement that runs in 1.
 */
export const MATCH_SETTINGS = `ANALYZE reply_anomalies; SET LOCAL work_mem = '64MB'; SET LOCAL enable_nestloop = off; SET LOCAL jit = off`;
/**
 * After the match: the rest of the reply's transaction (the submission's state, its event) is
 * planned as any other statement. Left off, every NOTI with anomalies paid the JIT compilation of
 * the one-row UPDATE of its submission's state (about 120 ms per reply). The settings go back to
 * the session's defaults, not to earlier values: nothing in a reply's transaction sets them
 * before the match (decision 0204).
 */
export const MATCH_SETTINGS_END = `SET LOCAL enable_nestloop TO DEFAULT; SET LOCAL work_mem TO DEFAULT; SET LOCAL jit TO DEFAULT`;

/**
 * The SQL condition that the stored anomaly `a` (maillon.record_anomalies) is about its whole file:
 * it names no record (neither INSS nor AttestationID), so STORE_ANOMALIES kept it with no ordinal.
 * An anomaly that names a record we did not send is unmatched, not about the file. `a.ordinal IS
 * NULL` lets the lookup use the index on (run_id, ordinal).
 */
export const aboutWholeFileSql = (a: string): string => `(${a}.ordinal IS NULL AND ${a}.inss IS NULL AND ${a}.attestation_id IS NULL)`;

/**
 * Stores the staged anomalies, each matched to a record of the file: $1 reply, $2 file, $3 run, $4
 * file key. An anomaly that gives an AttestationID names the emitted record of the file with that
 * AttestationID, whatever INSS it gives (none, or another: the receiver's current number of a
 * person whose BIS number was replaced); one that gives an INSS only names the first emitted
 * record of the file with that INSS. Each is one hash join of the staged anomalies with the file's
 * records that either names (no query per anomaly). `other_inss` counts the anomalies matched by
 * their AttestationID whose INSS is not their record's: kept as the receiver gave it, visible in
 * the trace.
 */
export const STORE_ANOMALIES = `WITH emitted AS (
   SELECT o.ordinal, o.record_key, o.attestation_id FROM maillon.record_outcomes o
   WHERE o.run_id = $3 AND o.file_key = $4 AND o.outcome = 'emitted'
     AND (o.record_key IN (SELECT inss FROM reply_anomalies WHERE attestation_id IS NULL) OR o.attestation_id IN (SELECT attestation_id::bigint FROM reply_anomalies))
 ), by_attestation AS (
   SELECT DISTINCT ON (a.n) a.n, e.ordinal, e.record_key
   FROM reply_anomalies a JOIN emitted e ON e.attestation_id = a.attestation_id::bigint
   ORDER BY a.n, e.ordinal
 ), by_inss AS (
   SELECT DISTINCT ON (a.n) a.n, e.ordinal
   FROM reply_anomalies a JOIN emitted e ON e.record_key = a.inss
   WHERE a.attestation_id IS NULL
   ORDER BY a.n, e.ordinal
 ), stored AS (
   INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, inss, attestation_id, blocking, code, description)
   SELECT $1, $2, $3, coalesce(t.ordinal, i.ordinal), a.inss, a.attestation_id, a.blocking, a.code, a.description
   FROM reply_anomalies a LEFT JOIN by_attestation t USING (n) LEFT JOIN by_inss i USING (n) ORDER BY a.n
   RETURNING ordinal
 )
 SELECT (SELECT count(*)::int FROM stored) AS stored, (SELECT count(*)::int FROM stored WHERE ordinal IS NULL) AS unmatched,
        (SELECT count(*)::int FROM reply_anomalies a JOIN by_attestation t USING (n) WHERE a.inss IS DISTINCT FROM t.record_key AND a.inss IS NOT NULL) AS other_inss`;

/**
 * Anomalies keyed for a multiset comparison: INSS, AttestationID, class, code, and the rank of the
 * anomaly among its equals (the second of two equal anomalies has k = 2), so that equality of keys
 * pairs them one to one. Hashable equalities: the comparisons below are hash (anti-)joins.
 */
const keyed = (from: string, where: string, order: string): string =>
  `SELECT ${order} AS id, coalesce(inss, '') AS i, coalesce(attestation_id, '') AS t, blocking AS b, code AS c, row_number() OVER (PARTITION BY inss, attestation_id, blocking, code ORDER BY ${order}) AS k
   FROM ${from} WHERE ${where}`;
const SAME_KEY = (x: string, y: string): string => `${x}.i = ${y}.i AND ${x}.t = ${y}.t AND ${x}.b = ${y}.b AND ${x}.c = ${y}.c AND ${x}.k = ${y}.k`;
const KEYED_STAGE = `staged AS (${keyed('reply_anomalies', 'true', 'n')}), known AS (${keyed('maillon.record_anomalies', 'run_id = $1 AND file_id = $2', 'anomaly_id')})`;

/** compare(): $1 run, $2 file, $3 the applied reply. */
const COMPARE_ANOMALIES = `WITH ${KEYED_STAGE}, applied AS (${keyed('maillon.record_anomalies', 'run_id = $1 AND file_id = $2 AND reply_id = $3', 'anomaly_id')}),
 added AS (SELECT s.b FROM staged s WHERE NOT EXISTS (SELECT FROM known x WHERE ${SAME_KEY('x', 's')}))
 SELECT (SELECT count(*)::int FROM added) AS added, (SELECT count(*)::int FROM added WHERE b) AS added_blocking,
        (SELECT count(*) FROM staged) = (SELECT count(*) FROM applied) AND NOT EXISTS (SELECT FROM staged s WHERE NOT EXISTS (SELECT FROM applied x WHERE ${SAME_KEY('x', 's')})) AS same`;

/** dropKnown(): $1 run, $2 file. */
const DROP_KNOWN_ANOMALIES = `WITH ${KEYED_STAGE}
 DELETE FROM reply_anomalies r USING staged s WHERE r.n = s.id AND EXISTS (SELECT FROM known x WHERE ${SAME_KEY('x', 's')})`;
