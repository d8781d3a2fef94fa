import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordIssuesSql, recordStateCountsSql } from '../../src/reconcile/delivery.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/**
 * A record's final state, record by record, as the report defines it (docs/state-rules.md): its
 * submission cancelled → cancelled; its file rejected (ACRF or NOTI), or a blocking anomaly →
 * rejected; a non-blocking anomaly once the NOTI is there → accepted with anomalies; the NOTI
 * there → accepted; otherwise pending. A record's codes are its anomalies', then, when its file is
 * rejected, its file's: the ACRF's error ids and the codes of the NOTI's anomalies that name no
 * record (neither INSS nor AttestationID), or, when it gave none, of those that matched no record;
 * an empty string when there are none. The report's
 * statements derive the same by file and by anomaly; this is the definition they are held to.
 */
const BY_RECORD = (runs: string): string => `
  SELECT o.run_id, o.source_key, f.name,
         CASE WHEN s.state = 'cancelled' THEN 'cancelled'
              WHEN f.ack_state = 'rejected' OR f.noti_state = 'rejected' OR a.blocking THEN 'rejected'
              WHEN a.codes IS NOT NULL AND f.noti_state IS NOT NULL THEN 'accepted_with_anomalies'
              WHEN f.noti_state IS NOT NULL THEN 'accepted'
              ELSE 'pending' END AS state,
         concat_ws(',', a.codes, CASE WHEN f.ack_state = 'rejected' OR f.noti_state = 'rejected' THEN nullif(array_to_string(f.ack_errors, ','), '') END,
                   CASE WHEN f.noti_state = 'rejected' THEN w.codes END) AS codes
  FROM maillon.record_outcomes o
  JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
  JOIN maillon.submissions s ON s.submission_id = f.submission_id
  LEFT JOIN LATERAL (
    SELECT bool_or(ra.blocking) AS blocking, string_agg(ra.code, ',' ORDER BY ra.code) AS codes
    FROM maillon.record_anomalies ra WHERE ra.run_id = o.run_id AND ra.ordinal = o.ordinal
  ) a ON true
  LEFT JOIN LATERAL (
    SELECT coalesce(string_agg(ra.code, ',' ORDER BY ra.code) FILTER (WHERE ra.inss IS NULL AND ra.attestation_id IS NULL), string_agg(ra.code, ',' ORDER BY ra.code)) AS codes
    FROM maillon.record_anomalies ra WHERE ra.file_id = f.file_id AND ra.ordinal IS NULL
  ) w ON true
  WHERE o.run_id ${runs} AND o.outcome = 'emitted'`;

/** One file of the seeded ledger: its submission's state, its reply states, and anomalies by record (1-4). */
interface SeedFile {
  key: string;
  run: 1 | 2;
  state: string;
  ack?: 'received' | 'rejected';
  ackErrors?: string[];
  noti?: 'accepted' | 'accepted_with_anomalies' | 'rejected';
  anomalies?: [record: number, code: string, blocking: boolean][];
  /** Codes of the NOTI's anomalies that name no record (no INSS, no AttestationID): about the whole file. */
  wholeFile?: string[];
  /** Codes of the NOTI's anomalies that name a person we did not send. */
  unmatched?: string[];
}

// Every way a record can end, and the precedence between them: a cancelled submission over its
// anomalies, a rejected file over its accepted records, a blocking anomaly over a warning, a
// warning without a NOTI still pending.
const FILES: SeedFile[] = [
  { key: 'F1', run: 1, state: 'cancelled', anomalies: [[1, 'C1', true]] },
  { key: 'F2', run: 1, state: 'rejected', ack: 'rejected', ackErrors: ['E2', 'E1'], anomalies: [[1, 'X', false]] },
  { key: 'F3', run: 1, state: 'rejected', ack: 'received', noti: 'rejected' },
  {
    key: 'F4',
    run: 1,
    state: 'accepted_with_anomalies',
    ack: 'received',
    noti: 'accepted_with_anomalies',
    anomalies: [
      [1, 'B1', true],
      [2, 'W2', false],
      [2, 'W1', false],
      [3, 'W3', false],
      [3, 'B2', true],
    ],
  },
  // An anomaly naming a quarantined record (record 5 of each file is quarantined): no record's state.
  { key: 'F5', run: 1, state: 'accepted', ack: 'received', noti: 'accepted', anomalies: [[5, 'Q5', true]] },
  {
    key: 'F6',
    run: 1,
    state: 'received',
    ack: 'received',
    anomalies: [
      [1, 'B4', true],
      [2, 'W4', false],
    ],
  },
  { key: 'F7', run: 1, state: 'written' },
  { key: 'F8', run: 2, state: 'accepted_with_anomalies', ack: 'received', noti: 'accepted_with_anomalies', anomalies: [[4, 'W8', false]] },
  // The key of a rejected file of run 1, in run 2: each run's files are its own.
  { key: 'F2', run: 2, state: 'accepted', ack: 'received', noti: 'accepted' },
  // Rejected whole by its NOTI, which says why in anomalies about the file (and warns about record 2).
  { key: 'F9', run: 1, state: 'rejected', ack: 'received', ackErrors: [], noti: 'rejected', anomalies: [[2, 'W9', false]], wholeFile: ['N2', 'N1'] },
  // Rejected whole by its NOTI, whose only reasons name persons we did not send (and which warns about record 3).
  { key: 'F10', run: 1, state: 'rejected', ack: 'received', ackErrors: [], noti: 'rejected', anomalies: [[3, 'W10', false]], unmatched: ['U2', 'U1'] },
];

async function seed(db: TestDatabase): Promise<void> {
  const q = (sql: string, params: unknown[] = []): Promise<unknown> => db.pool.query(sql, params);
  for (const run of [1, 2]) {
    await q(
      `INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, finished_at, extracted, emitted, quarantined, started_by, host, pid)
       VALUES ('career', '2026-Q${run}', 'T', now(), false, 'succeeded', now(), now(), 0, 0, 0, 'test', 'test', 1)`,
    );
  }
  let n = 0;
  for (const f of FILES) {
    n++;
    const seq = String(n).padStart(5, '0');
    const sub = (
      await db.pool.query<{ id: string }>(
        `INSERT INTO maillon.submissions (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, state, created_at, go_started_at, kind)
       VALUES ($1, 'career', $5, 'T', $2, '012345', 'CARR', '2026-10-10', $3, 1, 'written', now(), CASE WHEN $4 THEN now() END, 'original') RETURNING submission_id AS id`,
        [f.run, `R${f.key}`, seq, f.state !== 'written' && f.state !== 'cancelled', `2026-Q${f.run}`],
      )
    ).rows[0]!.id;
    if (f.state !== 'written') await q(`UPDATE maillon.submissions SET state = $2 WHERE submission_id = $1`, [sub, f.state]);
    const file = (
      await db.pool.query<{ id: string }>(
        `INSERT INTO maillon.files (submission_id, run_id, file_key, kind, name, part, receiver, path, records, bytes, sha256, created_at, ack_state, ack_errors, noti_state)
       VALUES ($1, $2, $3, 'FI', 'FI.CARR.012345.20261010.' || $4 || '.T.1.1', 1, $5, '/dev/null', 4, 0, repeat('0', 64), now(), $6, $7, $8) RETURNING file_id AS id`,
        [sub, f.run, f.key, seq, `R${f.key}`, f.ack ?? null, f.ackErrors ?? null, f.noti ?? null],
      )
    ).rows[0]!.id;
    const base = n * 10;
    // Four emitted records per file, and around them a quarantined and an unchanged one (not counted).
    await q(
      `INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, record_key, file_key, position, attestation_id, record_hash)
       SELECT $1, $2 + i, $3 || '-' || i, 'emitted', 'inss', $3, i, i, 'h' FROM generate_series(1, 4) i`,
      [f.run, base, f.key],
    );
    await q(`INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, rule, message) VALUES ($1, $2, $3, 'quarantined', 'rule', 'm')`, [f.run, base + 5, `${f.key}-5`]);
    await q(`INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, record_hash) VALUES ($1, $2, $3, 'unchanged', 'h')`, [f.run, base + 6, `${f.key}-u`]);
    if (!f.anomalies?.length && f.key !== 'F4') continue;
    const reply = (
      await db.pool.query<{ id: string }>(`INSERT INTO maillon.replies (server, name, received_at, state, kind, file_name) VALUES ('s', $1, now(), 'processed', 'NOTI', $1) RETURNING reply_id AS id`, [
        `FO.NOTI.${f.key}`,
      ])
    ).rows[0]!.id;
    for (const [record, code, blocking] of f.anomalies ?? []) {
      await q(`INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, blocking, code) VALUES ($1, $2, $3, $4, $5, $6)`, [reply, file, f.run, base + record, blocking, code]);
    }
    // An anomaly that named no record of the file: never a record's state.
    if (f.key === 'F4') await q(`INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, blocking, code) VALUES ($1, $2, 1, NULL, true, 'U')`, [reply, file]);
    for (const code of f.wholeFile ?? []) {
      await q(`INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, blocking, code) VALUES ($1, $2, $3, NULL, true, $4)`, [reply, file, f.run, code]);
    }
    for (const code of f.unmatched ?? []) {
      await q(`INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, inss, blocking, code) VALUES ($1, $2, $3, NULL, '00000000097', true, $4)`, [reply, file, f.run, code]);
    }
    // Unmatched anomalies of a file its NOTI rejects saying why about the file, naming a person or an attestation we did not send: not the file's reason.
    if (f.wholeFile) {
      await q(`INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, inss, blocking, code) VALUES ($1, $2, $3, NULL, '00000000097', true, 'U9')`, [reply, file, f.run]);
      await q(`INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, attestation_id, blocking, code) VALUES ($1, $2, $3, NULL, '99', true, 'V9')`, [reply, file, f.run]);
    }
  }
  await q('ANALYZE');
}

/** A run of three files of `records` emitted records each: one rejected by its ACRF, one by its NOTI (with an anomaly about the file), one accepted. */
async function seedLarge(db: TestDatabase, run: number, records: number): Promise<void> {
  const q = (sql: string, params: unknown[] = []): Promise<unknown> => db.pool.query(sql, params);
  await q(
    `INSERT INTO maillon.runs (run_id, flow, period, environment, as_of, dry_run, state, started_at, finished_at, extracted, emitted, quarantined, started_by, host, pid)
     OVERRIDING SYSTEM VALUE VALUES ($1, 'career', $2, 'T', now(), false, 'succeeded', now(), now(), 0, 0, 0, 'test', 'test', 1)`,
    [run, `2026-Q${run}`],
  );
  const files: [key: string, state: string, ack: string, ackErrors: string[], noti: string | null][] = [
    ['L1', 'rejected', 'rejected', ['E7'], null],
    ['L2', 'rejected', 'received', [], 'rejected'],
    ['L3', 'accepted', 'received', [], 'accepted'],
  ];
  for (const [i, [key, state, ack, ackErrors, noti]] of files.entries()) {
    const sub = (
      await db.pool.query<{ id: string }>(
        `INSERT INTO maillon.submissions (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, state, created_at, go_started_at, kind)
         VALUES ($1, 'career', $4, 'T', $2, '012345', 'CARR', '2026-10-11', $3, 1, 'written', now(), now(), 'original') RETURNING submission_id AS id`,
        [run, `R${key}`, `9000${i}`, `2026-Q${run}`],
      )
    ).rows[0]!.id;
    await q(`UPDATE maillon.submissions SET state = $2 WHERE submission_id = $1`, [sub, state]);
    const file = (
      await db.pool.query<{ id: string }>(
        `INSERT INTO maillon.files (submission_id, run_id, file_key, kind, name, part, receiver, path, records, bytes, sha256, created_at, ack_state, ack_errors, noti_state)
         VALUES ($1, $2, $3, 'FI', 'FI.CARR.012345.20261011.9000' || $4 || '.T.1.1', 1, $5, '/dev/null', $6, 0, repeat('0', 64), now(), $7, $8, $9) RETURNING file_id AS id`,
        [sub, run, key, i, `R${key}`, records, ack, ackErrors, noti],
      )
    ).rows[0]!.id;
    await q(
      `INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, record_key, file_key, position, attestation_id, record_hash)
       SELECT $1, $2 + g, $3 || '-' || g, 'emitted', lpad(($2 + g)::text, 11, '0'), $3, g, g, 'h' FROM generate_series(1, $4::int) g`,
      [run, i * records, key, records],
    );
    if (!noti) continue;
    const reply = (
      await db.pool.query<{ id: string }>(`INSERT INTO maillon.replies (server, name, received_at, state, kind, file_name) VALUES ('s', $1, now(), 'processed', 'NOTI', $1) RETURNING reply_id AS id`, [
        `FO.NOTI.${run}.${key}`,
      ])
    ).rows[0]!.id;
    if (noti === 'rejected') await q(`INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, blocking, code) VALUES ($1, $2, $3, NULL, true, 'N7')`, [reply, file, run]);
  }
  await q('ANALYZE');
}

describe("the report's record states, derived by file and by anomaly, are those of each record (real PostgreSQL)", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await seed(db);
  });
  afterAll(async () => db?.drop());

  it('counts every emitted record once, in its final state, run by run', async () => {
    const counts = await db.pool.query(`SELECT run_id::int, state, n FROM (${recordStateCountsSql('= ANY($1::bigint[])')}) c ORDER BY run_id, state`, [[1, 2]]);
    expect(counts.rows).toEqual([
      { run_id: 1, state: 'accepted', n: 5 },
      { run_id: 1, state: 'accepted_with_anomalies', n: 1 },
      { run_id: 1, state: 'cancelled', n: 4 },
      { run_id: 1, state: 'pending', n: 7 },
      { run_id: 1, state: 'rejected', n: 19 },
      { run_id: 2, state: 'accepted', n: 7 },
      { run_id: 2, state: 'accepted_with_anomalies', n: 1 },
    ]);
    const byRecord = await db.pool.query(`SELECT run_id::int, state, count(*)::int AS n FROM (${BY_RECORD('= ANY($1::bigint[])')}) r GROUP BY 1, 2 ORDER BY 1, 2`, [[1, 2]]);
    expect(counts.rows).toEqual(byRecord.rows);
    const one = await db.pool.query(`SELECT state, n FROM (${recordStateCountsSql('= $1')}) c ORDER BY state`, [2]);
    expect(one.rows).toEqual([
      { state: 'accepted', n: 7 },
      { state: 'accepted_with_anomalies', n: 1 },
    ]);
  });

  it('lists the records the receivers did not simply accept, with their codes, as the record-by-record definition does', async () => {
    const issues = await db.pool.query(`SELECT source_key, name, state, codes FROM (${recordIssuesSql(1)}) i ORDER BY source_key COLLATE "C"`);
    expect(issues.rows.map((r) => [r.source_key, r.state, r.codes])).toEqual([
      // A NOTI whose only reasons name records the file does not hold: they are the file's codes.
      ['F10-1', 'rejected', 'U1,U2'],
      ['F10-2', 'rejected', 'U1,U2'],
      ['F10-3', 'rejected', 'W10,U1,U2'],
      ['F10-4', 'rejected', 'U1,U2'],
      // A record's own codes come first, then its file's: a warning alone would not say why it was rejected.
      ['F2-1', 'rejected', 'X,E2,E1'],
      ['F2-2', 'rejected', 'E2,E1'],
      ['F2-3', 'rejected', 'E2,E1'],
      ['F2-4', 'rejected', 'E2,E1'],
      ['F3-1', 'rejected', ''],
      ['F3-2', 'rejected', ''],
      ['F3-3', 'rejected', ''],
      ['F3-4', 'rejected', ''],
      ['F4-1', 'rejected', 'B1'],
      ['F4-2', 'accepted_with_anomalies', 'W1,W2'],
      ['F4-3', 'rejected', 'B2,W3'],
      ['F6-1', 'rejected', 'B4'],
      ['F9-1', 'rejected', 'N1,N2'],
      ['F9-2', 'rejected', 'W9,N1,N2'],
      ['F9-3', 'rejected', 'N1,N2'],
      ['F9-4', 'rejected', 'N1,N2'],
    ]);
    const byRecord = await db.pool.query(`SELECT source_key, name, state, codes FROM (${BY_RECORD('= 1')}) r WHERE state IN ('rejected', 'accepted_with_anomalies') ORDER BY source_key COLLATE "C"`);
    expect(issues.rows).toEqual(byRecord.rows);
    expect((await db.pool.query(`SELECT source_key, state FROM (${recordIssuesSql(2)}) i`)).rows).toEqual([{ source_key: 'F8-4', state: 'accepted_with_anomalies' }]);
  });
  it("reads the records of a run's rejected files in one scan of its lineage, and none when no file is rejected", async () => {
    const scans = async (runId: number): Promise<number[]> => {
      const plan = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(*) FROM (${recordIssuesSql(runId)}) i`);
      const lines = plan.rows.map((r) => r['QUERY PLAN']);
      // The first branch (the rejected files) scans the lineage as "o"; the anomalies' branch as "o_1".
      return lines.filter((l) => /Scan.* on record_outcomes o /.test(l)).map((l) => (/never executed/.test(l) ? 0 : Number(/loops=(\d+)/.exec(l)![1])));
    };
    // Run 1 has four rejected files (F2 by its ACRF, F3, F9 and F10 by their NOTI): one scan, not one per file.
    expect(await scans(1)).toEqual([1]);
    // Run 2 has none: the scan is not run at all.
    expect(await scans(2)).toEqual([0]);
    // Run 3, with statistics of a few thousand records: two of its three files of 2,000 records
    // rejected (by the ACRF, by the NOTI with codes about the file), still one scan.
    await seedLarge(db, 3, 2000);
    expect(await scans(3)).toEqual([1]);
    const listed = await db.pool.query(`SELECT codes, count(*)::int AS n FROM (${recordIssuesSql(3)}) i GROUP BY codes ORDER BY codes`);
    expect(listed.rows).toEqual([
      { codes: 'E7', n: 2000 },
      { codes: 'N7', n: 2000 },
    ]);
  });
});
