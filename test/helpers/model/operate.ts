import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { career } from '../../../pipelines/career.js';
import { MaillonError } from '../../../src/errors/errors.js';
import { type RunResult, runPipeline } from '../../../src/engine/runPipeline.js';
import { parsePeriod } from '../../../src/period/period.js';
import type { SendOutcome } from '../../../src/transport/sendSubmissions.js';
import { liveIn, type Model, type MSub } from './model.js';
import type { World } from './world.js';

/** A command's outcome: its value, or the exit code of the refusal (a MaillonError); anything else is a defect. */
export type Attempt<T> = { ok: T } | { exit: number; message: string };

export async function attempt<T>(fn: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: await fn() };
  } catch (err) {
    if (err instanceof MaillonError) return { exit: err.exitCode, message: err.message };
    throw err;
  }
}

export const said = <T>(a: Attempt<T>): string => ('ok' in a ? 'ok' : `exit ${a.exit}`);

/** Runs career for a period in T, as `maillon run` (or `rerun`) does. */
export function runCareer(w: World, period: string, correction?: { full: boolean }): Promise<RunResult> {
  return runPipeline(w.run, {
    pipeline: career,
    period: parsePeriod(period),
    environment: 'T',
    sender: '012345',
    dryRun: false,
    ...(correction ? { correction: { reason: 'model test', full: correction.full } } : {}),
  });
}

/** Adds the submissions a run wrote to the model (written, nothing on the server); returns them. */
export async function adoptRun(m: Model, w: World, runId: number): Promise<MSub[]> {
  const rows = (
    await w.db.pool.query(
      `SELECT s.submission_id::int AS id, s.period, s.kind, f.name AS fi FROM maillon.submissions s
     JOIN maillon.files f ON f.submission_id = s.submission_id AND f.kind = 'FI' WHERE s.run_id = $1 ORDER BY s.submission_id`,
      [runId],
    )
  ).rows as { id: number; period: string; kind: string; fi: string }[];
  // What each builds on: the live submissions of its period when it was written.
  const added = rows.map((r): MSub => ({ ...r, state: 'written', goStarted: false, taken: false, ack: null, noti: null, base: liveIn(m, r.period).map((s) => s.id) }));
  m.subs.push(...added);
  m.subs.sort((a, b) => a.id - b.id);
  return added;
}

/**
 * Applies a send's outcomes to the model: exactly the written submissions were tried, in order;
 * each sent one is sent; one not sent keeps its state, its GO started only if the ledger says so
 * (a kill after the GO), which may never be undone.
 */
export async function adoptSend(m: Model, w: World, outcomes: SendOutcome[] | null, label: string): Promise<void> {
  const written = m.subs.filter((s) => s.state === 'written');
  if (outcomes)
    expect(
      outcomes.map((o) => o.submissionId),
      `${label}: the submissions tried`,
    ).toEqual(written.map((s) => s.id));
  for (const s of written) {
    const row = (await w.db.pool.query(`SELECT state, go_started_at IS NOT NULL AS go FROM maillon.submissions WHERE submission_id = $1`, [s.id])).rows[0];
    const result = outcomes?.find((o) => o.submissionId === s.id)?.result;
    if (result === 'sent') expect(row.state, `${label}: #${s.id} reported sent`).toBe('sent');
    expect(['written', 'sent'], `${label}: #${s.id}`).toContain(row.state);
    if (s.goStarted) expect(row.go, `${label}: #${s.id} GO started`).toBe(true);
    s.state = row.state;
    s.goStarted = row.go;
  }
}

/** The receiver takes every complete submission out of IN, as the channel does (a TD beside its GO: taken as cancelled). */
export async function receiverTakes(w: World): Promise<string[]> {
  const taken: string[] = [];
  const names = await fs.readdir(w.inDir);
  for (const go of names.filter((n) => n.startsWith('GO.')).sort()) {
    const stem = go.slice(3, go.lastIndexOf('.'));
    const fi = `FI.${stem}.1.1`;
    const td = `TD.${go.slice(3)}`;
    const cancelled = names.includes(td);
    if (!cancelled && !names.includes(fi)) continue;
    const to = path.join(w.inDir, cancelled ? '.cancelled' : '.processed');
    await fs.mkdir(to, { recursive: true });
    for (const n of [fi, go, td, `FS.${stem}.1.1`]) if (names.includes(n)) await fs.rename(path.join(w.inDir, n), path.join(to, n));
    taken.push(fi);
  }
  return taken;
}
