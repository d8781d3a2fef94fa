/**
 * The floors of the lifecycle steps that PostgreSQL and the coreutils set: what the same rows cost
 * through `psql \copy`, and what the same bytes cost through `cp` and `sha256sum`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { bestOf, psql, secondsOf } from './common.js';

const ANOMALY_COLUMNS = 'reply_id, file_id, run_id, ordinal, inss, attestation_id, blocking, code, description';

/**
 * The acks floor: the anomaly rows the replies gave, copied out to a CSV file, then `psql \copy`
 * of that file into a copy of maillon.record_anomalies (its keys and indexes; the best of three).
 */
export async function anomalyCopySeconds(url: string, work: string): Promise<{ rows: number; seconds: number }> {
  const file = path.join(work, 'anomalies.csv');
  psql(url, `\\copy (SELECT ${ANOMALY_COLUMNS} FROM maillon.record_anomalies) TO '${file}' WITH (FORMAT csv)`);
  const rows = Number(psql(url, 'SELECT count(*) FROM maillon.record_anomalies').trim());
  psql(url, 'CREATE TABLE bench_anomalies (LIKE maillon.record_anomalies INCLUDING ALL)');
  try {
    const times = [1, 2, 3].map(() => {
      psql(url, 'TRUNCATE bench_anomalies');
      return secondsOf(() => psql(url, `\\copy bench_anomalies (${ANOMALY_COLUMNS}) FROM '${file}' WITH (FORMAT csv)`));
    });
    return { rows, seconds: Math.min(...times) };
  } finally {
    psql(url, 'DROP TABLE bench_anomalies');
    await fs.rm(file, { force: true });
  }
}

/**
 * The rows a flow's report lists, read independently of src/reconcile: the quarantined records of
 * its latest run, and its emitted records that the receiver rejected (a negative ACRF or NOTI, or
 * a blocking anomaly) or accepted with anomalies.
 */
export function reportRowQueries(runId: number): { quarantine: string; issues: string } {
  return {
    quarantine: `SELECT rule, source_key, message FROM maillon.record_outcomes WHERE run_id = ${runId} AND outcome = 'quarantined'`,
    issues: `SELECT o.source_key, f.name, CASE WHEN f.ack_state = 'rejected' OR f.noti_state = 'rejected' OR bool_or(a.blocking) THEN 'rejected' ELSE 'accepted_with_anomalies' END, string_agg(a.code, ',')
      FROM maillon.record_outcomes o JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
      LEFT JOIN maillon.record_anomalies a ON a.run_id = o.run_id AND a.ordinal = o.ordinal
      WHERE o.run_id = ${runId} AND o.outcome = 'emitted' AND (f.ack_state = 'rejected' OR f.noti_state = 'rejected' OR a.anomaly_id IS NOT NULL)
      GROUP BY o.ordinal, o.source_key, f.name, f.ack_state, f.noti_state`,
  };
}

/** The report floor: `psql \copy` of the rows it lists to /dev/null (the best of three), and how many there are. */
export function reportCopySeconds(url: string, runId: number): { quarantined: number; issues: number; seconds: number } {
  const q = reportRowQueries(runId);
  const count = (sql: string): number => Number(psql(url, `SELECT count(*) FROM (${sql}) x`).trim());
  const copy = (sql: string): string => `\\copy (${sql.replace(/\s+/g, ' ').trim()}) TO '/dev/null'`;
  const seconds = bestOf(3, () => {
    psql(url, copy(q.quarantine));
    psql(url, copy(q.issues));
  });
  return { quarantined: count(q.quarantine), issues: count(q.issues), seconds };
}

/**
 * The evidence floor: the bytes of a flow's packs (the sent files, the replies, the JSON records)
 * copied twice, as maillon copies them (outbox to pack, pack to zip), each copy read back by
 * `sha256sum`: `cp -r` and `sha256sum` of the same bytes, twice (the best of three).
 */
export function packCopySeconds(packs: string, work: string): { bytes: number; seconds: number } {
  const a = path.join(work, 'floor-pack');
  const b = path.join(work, 'floor-zip');
  // The packs are read-only (as maillon leaves them), and so are their copies.
  const clear = (): void => {
    execFileSync('sh', ['-c', 'for d; do [ -e "$d" ] && chmod -R u+w "$d"; done; rm -rf "$@"', 'sh', a, b]);
  };
  const hashAll = (dir: string): void => {
    execFileSync('sh', ['-c', 'find "$1" -type f -print0 | xargs -0 -r sha256sum > /dev/null', 'sh', dir]);
  };
  clear();
  try {
    const seconds = bestOf(3, () => {
      clear();
      execFileSync('cp', ['-r', packs, a]);
      hashAll(a);
      execFileSync('cp', ['-r', a, b]);
      hashAll(b);
    });
    const bytes = Number(execFileSync('du', ['-sb', packs], { encoding: 'utf8' }).split('\t')[0]);
    return { bytes, seconds };
  } finally {
    clear();
  }
}
