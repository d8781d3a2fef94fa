import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { career } from '../../../pipelines/career.js';
import { verifyChain } from '../../../src/ledger/events.js';
import { formatBatchFileName, parseBatchFileName } from '../../../src/package/batchFileName.js';
import { buildReport } from '../../../src/reconcile/report.js';
import { createMetrics } from '../../../src/status/metrics.js';
import { statusSnapshot } from '../../../src/status/statusSnapshot.js';
import { builtOnRejectedIn, expectedPhase, FINAL, LIVE, mayHoldIn, type Model, type MState, PERIODS, reached, rejectedBaseOf } from './model.js';
import type { World } from './world.js';

/** The receiver's folders: IN and where it moves what it took (processed, or cancelled by a TD). */
const SERVER_FOLDERS = ['', '.processed', '.cancelled'];

/** The GO and TD names of a data file's submission. */
export function goOf(fi: string): string {
  return formatBatchFileName({ ...parseBatchFileName(fi), kind: 'GO' });
}
export function tdOf(fi: string): string {
  return formatBatchFileName({ ...parseBatchFileName(fi), kind: 'TD' });
}

/** Checks every invariant of the model test; `step` names the command in the failure. */
export async function checkInvariants(m: Model, w: World, step: string): Promise<void> {
  const pool = w.db.pool;
  const subs = (
    await pool.query(
      `SELECT s.submission_id::int AS id, s.period, s.kind, s.state, s.go_started_at IS NOT NULL AS "goStarted", f.name AS fi
     FROM maillon.submissions s JOIN maillon.files f ON f.submission_id = s.submission_id AND f.kind = 'FI' ORDER BY s.submission_id`,
    )
  ).rows as { id: number; period: string; kind: string; state: MState; goStarted: boolean; fi: string }[];

  // The ledger says what the model says.
  expect(subs, `${step}: ledger submissions`).toEqual(m.subs.map((s) => ({ id: s.id, period: s.period, kind: s.kind, state: s.state, goStarted: s.goStarted, fi: s.fi })));

  // No final state reopened.
  for (const s of subs) {
    const was = m.final.get(s.id);
    if (was) expect(s.state, `${step}: #${s.id} was ${was}, a final state`).toBe(was);
    if (FINAL.includes(s.state)) m.final.set(s.id, s.state);
    if (!m.seen.has(`${s.id} ${s.state}`)) reached(`${s.kind} ${s.state}`);
    m.seen.add(`${s.id} ${s.state}`);
  }

  // At most one live original per flow × period × environment × receiver (PostgreSQL's own word).
  const doubles = await pool.query(
    `SELECT flow, period, environment, receiver, count(*)::int AS n FROM maillon.submissions
     WHERE kind = 'original' AND state IN ('written', 'sent', 'received', 'accepted', 'accepted_with_anomalies') GROUP BY 1, 2, 3, 4 HAVING count(*) > 1`,
  );
  expect(doubles.rows, `${step}: live originals`).toEqual([]);

  await checkServer(w, subs, step);

  // The event chain verifies, the tables agree with it, and a reply after a cancel is on it, once per submission.
  const verdict = await verifyChain(pool);
  expect(verdict.broken, `${step}: event chain`).toBeNull();
  expect(verdict.mismatches, `${step}: tables against the event chain`).toEqual([]);
  const answered = await pool.query(`SELECT submission_id::int AS id FROM maillon.events WHERE kind = 'answered_after_cancel' ORDER BY submission_id`);
  expect(
    answered.rows.map((r) => r.id),
    `${step}: answered_after_cancel events`,
  ).toEqual(m.subs.filter((s) => s.answeredAfterCancel).map((s) => s.id));
  const accepted = await pool.query(`SELECT submission_id::int AS id FROM maillon.events WHERE kind = 'accepted_after_reject' ORDER BY submission_id`);
  expect(
    accepted.rows.map((r) => r.id),
    `${step}: accepted_after_reject events`,
  ).toEqual(m.subs.filter((s) => s.acceptedAfterReject).map((s) => s.id));

  // Every successful run reconciles: extracted = emitted + quarantined, in the rerun form.
  const runs = await pool.query(
    `SELECT run_id, extracted, emitted, quarantined, coalesce(unchanged, 0) AS unchanged, coalesce(cancelled, 0) AS cancelled FROM maillon.runs WHERE state = 'succeeded' AND NOT dry_run`,
  );
  for (const r of runs.rows) {
    expect(r.extracted + r.cancelled, `${step}: run ${r.run_id} counts ${JSON.stringify(r)}`).toBe(r.emitted + r.quarantined + r.unchanged);
  }
  const dangling = await pool.query(`SELECT run_id FROM maillon.runs WHERE state = 'running'`);
  expect(dangling.rows, `${step}: runs left running`).toEqual([]);

  await checkViews(m, w, step);
}

/** What the SFTP server holds equals what the ledger says was sent, each file once. */
async function checkServer(w: World, subs: { id: number; state: string; goStarted: boolean; fi: string }[], step: string): Promise<void> {
  const where = new Map<string, string[]>();
  for (const folder of SERVER_FOLDERS) {
    const names = await fs.readdir(path.join(w.inDir, folder)).catch(() => [] as string[]);
    for (const n of names) {
      if (n.startsWith('.')) continue; // the receiver's folders and our temporary names
      where.set(n, [...(where.get(n) ?? []), folder || 'IN']);
    }
  }
  const tds = new Set((await w.db.pool.query(`SELECT detail->>'td' AS td FROM maillon.events WHERE kind = 'cancelled' AND detail ? 'td'`)).rows.map((r) => r.td as string));
  const known = new Set<string>();
  for (const s of subs) {
    const go = goOf(s.fi);
    const td = tdOf(s.fi);
    known.add(s.fi).add(go).add(td);
    const gos = where.get(go) ?? [];
    expect(gos.length, `${step}: ${go} on the server ${JSON.stringify(gos)}`).toBeLessThanOrEqual(1);
    expect((where.get(s.fi) ?? []).length, `${step}: ${s.fi} on the server`).toBeLessThanOrEqual(1);
    if (gos.length > 0) expect(s.goStarted, `${step}: ${go} is on the server, the ledger never started it`).toBe(true);
    const delivered = !['written', 'cancelled'].includes(s.state) || tds.has(td);
    if (delivered) expect(gos.length, `${step}: #${s.id} ${s.state}: its GO on the server`).toBe(1);
    expect(where.has(td), `${step}: ${td} on the server`).toBe(tds.has(td));
  }
  const stray = [...where.keys()].filter((n) => !known.has(n) && !n.startsWith('FS.'));
  expect(stray, `${step}: files on the server the ledger does not know`).toEqual([]);
}

/** status, report and /metrics say what the model says of each period. */
async function checkViews(m: Model, w: World, step: string): Promise<void> {
  const now = w.run.clock.now();
  const status = await statusSnapshot(w.db.pool, [career], 'T', now, 400, 48);
  for (const period of PERIODS) {
    if (!m.subs.some((s) => s.period === period)) continue;
    const p = status.periods.find((x) => x.period === period);
    expect(p?.phase, `${step}: status phase of ${period}`).toBe(expectedPhase(m, period));
    expect(
      p?.submissions.map((s) => `${s.id} ${s.state}`),
      `${step}: status submissions of ${period}`,
    ).toEqual(m.subs.filter((s) => s.period === period).map((s) => `${s.id} ${s.state}`));
    const report = await buildReport(w.db.pool, career, period, 'T', now);
    expect(report.receivers.phase, `${step}: report phase of ${period}`).toBe(expectedPhase(m, period));
    expect(
      report.checks.filter((c) => !c.ok),
      `${step}: report checks of ${period}`,
    ).toEqual([]);
    // What the receiver holds: its live files, and those of a cancelled submission it may hold.
    const maybe = mayHoldIn(m, period);
    expect(
      report.receivers.holds.flatMap((h) => h.files.filter((f) => f.name.startsWith('FI.')).map((f) => `${f.name}${f.mayHold ? ' may hold' : ''}`)),
      `${step}: report holds of ${period}`,
    ).toEqual(m.subs.filter((s) => s.period === period && (LIVE.includes(s.state) || maybe.includes(s))).map((s) => `${s.fi}${maybe.includes(s) ? ' may hold' : ''}`));
    if (maybe.length > 0) expect(report.accountedFor, `${step}: report of ${period}, a receiver may hold #${maybe[0]!.id}`).toBe(false);
    // The records it may hold are counted as such (not cancelled, not rejected), by why.
    const recordsOf = (state: MState): number => report.versions.flatMap((v) => v.files).reduce((n, f) => n + (maybe.some((s) => s.state === state && s.fi === f.name) ? f.records : 0), 0);
    expect({ answeredAfterCancel: report.answeredAfterCancelRecords, acceptedAfterReject: report.acceptedAfterRejectRecords }, `${step}: report of ${period}, records a receiver may hold`).toEqual({
      answeredAfterCancel: recordsOf('cancelled'),
      acceptedAfterReject: recordsOf('rejected'),
    });
    const onRejected = builtOnRejectedIn(m, period);
    expect(
      report.builtOnRejected.map((b) => `#${b.submissionId} on ${b.rejected.map((id) => `#${id}`).join(',')}`),
      `${step}: report of ${period}, built on a rejected version`,
    ).toEqual(
      onRejected.map(
        (s) =>
          `#${s.id} on ${rejectedBaseOf(m, s)
            .map((id) => `#${id}`)
            .join(',')}`,
      ),
    );
    if (onRejected.length > 0) {
      reached('correction built on a rejected version');
      expect(report.accountedFor, `${step}: report of ${period}, #${onRejected[0]!.id} builds on a rejected version`).toBe(false);
    }
  }
  const metrics = await createMetrics(w.db.pool, { clock: w.run.clock, pipelines: [career], environment: 'T', windowDays: 400, ackDelayHours: 48 }).getMetricsAsJSON();
  const periods = metrics.find((x) => x.name === 'maillon_periods')!.values;
  const counted: Record<string, number> = {};
  for (const p of status.periods) counted[p.phase] = (counted[p.phase] ?? 0) + 1;
  const fromMetrics: Record<string, number> = {};
  for (const v of periods) if (v.value) fromMetrics[String(v.labels['phase'])] = v.value;
  expect(fromMetrics, `${step}: /metrics periods`).toEqual(counted);
}
