import type { Environment } from '../domain/environment.js';
import { z } from 'zod';
import type { Pool, PoolClient } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { ledgerId } from '../ledger/rowSchemas.js';
import { extractBatches } from '../extract/extractRows.js';
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

/**
 * One record the receivers hold, with its source key: the copy held last (the latest version in
 * a live file, what a rerun compares with) and the copies still held at other receivers (a move
 * whose cancellation at the old receiver did not take: rejected, cancelled, or refused by a
 * blocking anomaly), latest first; at most one copy per receiver.
 */
export interface HeldRecord extends SentRecord {
  key: string;
  alsoHeldAt: SentRecord[];
}

/** The effective content of a period at the receivers: every version applied in order. */
export interface PreviousVersion {
  lastRunId: number;
  /** The live submissions of the period when it was read (ascending ids): what the new version builds on. */
  liveSubmissions: number[];
  /** The records the receivers refused when it was read (blocking anomalies of those submissions' runs): the other input of what they hold. */
  refusals: Refusals;
  /** Versions written so far (held or not): the next one is numbered after them. */
  versions: number;
  /**
   * The highest AttestationID any version of the period used (held or not, every receiver); null
   * when none. A query over every record of the period's runs: read only when a version's ids no
   * longer fit after the period code (`versionFits`), not for every rerun.
   */
  highestAttestationId(): Promise<string | null>;
  /**
   * Streams what the receivers hold, one record per source key (with its copies at other
   * receivers), in strictly increasing source-key
   * byte order (COLLATE "C", the order the extraction is held to): a rerun merges it with the
   * new extraction and holds no index of the previous version.
   */
  held(): AsyncGenerator<HeldRecord[]>;
}

/**
 * What the receivers hold of a period: the versions in the files of live submissions (not
 * cancelled, not rejected), less the records a blocking anomaly refused, replayed by the lineage
 * query below. `keepsUntilCancelled`: the flow's receivers keep each record until it is cancelled
 * (see `heldSql`). Null when no receiver holds anything. Only the list of runs is read here; the
 * records are streamed by `held()`.
 */
export async function loadPreviousVersion(ledger: Pool, flow: string, period: string, env: Environment, keepsUntilCancelled = false): Promise<PreviousVersion | null> {
  // Read first: a version rejected after this read is missing from the runs below, which the run sees before publishing.
  const liveSubmissions = await readLiveSubmissions(ledger, flow, period, env);
  // Read before the lineage is: a refusal read after it moves the mark, which the run sees before publishing.
  const refusals = await readRefusals(ledger, liveSubmissions);
  const runs = (
    await queryRows(
      ledger,
      `SELECT r.run_id, r.kind, array_agg(DISTINCT s.receiver) AS receivers FROM maillon.runs r
     JOIN maillon.submissions s ON s.run_id = r.run_id AND s.state = ANY($4::text[])
     WHERE r.flow = $1 AND r.period = $2 AND r.environment = $3 AND r.state = 'succeeded' AND NOT r.dry_run
     GROUP BY r.run_id, r.kind ORDER BY r.run_id`,
      [flow, period, env, LIVE_STATES],
      z.object({ run_id: ledgerId, kind: z.string(), receivers: z.array(z.string()) }),
    )
  ).map((r) => ({ id: r.run_id, full: r.kind === 'full-replacement', receivers: r.receivers }));
  if (runs.length === 0) return null;
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
  const sql = heldSql(runs, keepsUntilCancelled);
  return {
    lastRunId: runs.at(-1)!.id,
    liveSubmissions,
    refusals,
    versions: written!.n,
    // Every id written counts, held, cancelled or rejected: ids taken after it never meet an earlier one.
    highestAttestationId: async () => {
      const highest = await queryFirst(
        ledger,
        `SELECT max(o.attestation_id)::text AS id FROM maillon.runs r JOIN maillon.record_outcomes o ON o.run_id = r.run_id
         WHERE r.flow = $1 AND r.period = $2 AND r.environment = $3 AND NOT r.dry_run`,
        [flow, period, env],
        z.object({ id: z.string().nullable() }),
      );
      return highest?.id ?? null;
    },
    held: async function* () {
      for await (const batch of extractBatches(ledger, sql)) yield (batch as HeldRow[]).map(toHeld);
    },
  };
}

/**
 * The live submissions of a period (ascending ids); `forShare` locks them in the caller's
 * transaction, so that no reply moves one of them out of the live states until it commits.
 */
export async function readLiveSubmissions(ledger: Pool | PoolClient, flow: string, period: string, env: Environment, forShare = false): Promise<number[]> {
  const rows = await queryRows(
    ledger,
    `SELECT submission_id FROM maillon.submissions WHERE flow = $1 AND period = $2 AND environment = $3 AND state = ANY($4::text[])
     ORDER BY submission_id${forShare ? ' FOR SHARE' : ''}`,
    [flow, period, env, LIVE_STATES],
    z.object({ submission_id: ledgerId }),
  );
  return rows.map((r) => r.submission_id);
}

/**
 * The blocking anomalies about the records of the runs of some submissions (what `refused` reads),
 * as a mark that moves when a NOTI adds one: anomalies are only ever added, so their count grows,
 * even for one committed after another with a higher id (ids are not handed out in commit order).
 * Read by the index on (run_id, ordinal).
 */
export interface Refusals {
  count: number;
  lastId: string | null;
}

/** The refusals recorded about the records of the runs of `submissions` (the live submissions of a period). */
export async function readRefusals(ledger: Pool | PoolClient, submissions: readonly number[]): Promise<Refusals> {
  const row = await queryFirst(
    ledger,
    `SELECT count(*)::int AS n, max(ra.anomaly_id)::text AS last FROM maillon.record_anomalies ra
     WHERE ra.run_id IN (SELECT s.run_id FROM maillon.submissions s WHERE s.submission_id = ANY($1::bigint[])) AND ra.ordinal IS NOT NULL AND ra.blocking`,
    [submissions],
    z.object({ n: z.number(), last: z.string().nullable() }),
  );
  return { count: row!.n, lastId: row!.last };
}

const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * True when a blocking anomaly of a NOTI refused the emitted record `o` (the receiver did not take
 * it), `o` being of one of the runs `runIds` (stated again so the anomalies are read by their index
 * on (run_id, ordinal), those of the period's runs only).
 */
const refused = (o: string, runIds: string): string =>
  `EXISTS (SELECT FROM maillon.record_anomalies ra WHERE ra.run_id IN (${runIds}) AND ra.run_id = ${o}.run_id AND ra.ordinal = ${o}.ordinal AND ra.blocking)`;

/** One row of `heldSql`: a source key and its copies, latest first (never empty). */
interface HeldRow {
  key: string;
  copies: [SentRecord, ...SentRecord[]];
}

const toHeld = ({ key, copies: [last, ...others] }: HeldRow): HeldRecord => ({ key, ...last, alsoHeldAt: others });

/**
 * The lineage replayed in SQL, receiver by receiver: for each source key and receiver, its last
 * version emitted to that receiver in a live file (latest run, then latest ordinal) that no
 * blocking anomaly refused is what that receiver holds (a refused version leaves it with the one
 * before, or nothing), unless it is a cancellation (status 1), or a full replacement written after
 * it went to the same receiver (a full replacement is the whole period for its receivers: a record
 * it leaves out is no longer held). A run that sends a record to a new receiver cancels it at the
 * old one too, after its extracted records: the old receiver keeps its copy when that cancellation
 * does not take (rejected, cancelled, refused), and the next rerun cancels it again.
 * When the receivers keep each record until it is cancelled (`keepsUntilCancelled`: a full
 * replacement cancels what it leaves out), a record the full replacement quarantined (not sent)
 * or sent and saw refused is not forgotten: the receiver keeps the version it held.
 * The copies of one key are gathered in one row, latest first: at most one per receiver.
 * This is the replay of every version in order, key by key. PostgreSQL sorts by the key in byte
 * order (COLLATE "C", spilling to disk past work_mem), so the process holds one batch at a time.
 * The blocking anomalies of the period's runs are read once, by their index on (run_id, ordinal),
 * and anti-joined; a full replacement's exemption reads that run's lineage once (a hashed subplan),
 * and only when a record older than it is left.
 */
function heldSql(runs: { id: number; full: boolean; receivers: string[] }[], keepsUntilCancelled: boolean): string {
  const kept = (run: number): string =>
    keepsUntilCancelled
      ? ` AND NOT EXISTS (SELECT FROM maillon.record_outcomes k WHERE k.run_id = ${run} AND k.source_key = h.source_key
                             AND (k.outcome = 'quarantined' OR (k.outcome = 'emitted' AND ${refused('k', String(run))})))`
      : '';
  const ids = runs.map((r) => r.id).join(',');
  const fulls = runs.filter((r) => r.full);
  const forgotten = fulls.length === 0 ? '' : `AND NOT (${fulls.map((r) => `(h.run_id < ${r.id} AND h.receiver IN (${r.receivers.map(literal).join(',')})${kept(r.id)})`).join(' OR ')})`;
  return `SELECT json_build_object('key', g.key, 'copies', g.copies)
    FROM (SELECT h.source_key COLLATE "C" AS key,
                 json_agg(json_build_object('hash', h.record_hash, 'attestationId', h.attestation_id::text, 'receiver', h.receiver, 'filePath', h.path,
                                            'position', h.position, 'fileSha256', h.sha256, 'contentOffset', h.content_offset, 'contentBytes', h.content_bytes)
                          ORDER BY h.run_id DESC, h.ordinal DESC) AS copies
            FROM (SELECT DISTINCT ON (o.source_key COLLATE "C", f.receiver) o.run_id, o.ordinal, o.source_key, o.record_hash, o.attestation_id, o.status, f.receiver,
                         f.path, o.position, f.sha256, o.content_offset, o.content_bytes
                    FROM maillon.record_outcomes o
                    JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
                    JOIN maillon.submissions s ON s.submission_id = f.submission_id AND s.state IN (${LIVE_STATES.map(literal).join(',')})
                   WHERE o.run_id IN (${ids}) AND o.outcome = 'emitted' AND NOT ${refused('o', ids)}
                   ORDER BY o.source_key COLLATE "C", f.receiver, o.run_id DESC, o.status = 1, o.ordinal DESC) h
           WHERE h.status <> 1 ${forgotten}
           GROUP BY h.source_key COLLATE "C") g
   ORDER BY g.key COLLATE "C"`;
}
