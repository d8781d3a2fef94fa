import fs from 'node:fs/promises';
import path from 'node:path';
import type { AnyPipeline } from '../../src/engine/pipeline.js';
import { runPipeline, type RunResult } from '../../src/engine/runPipeline.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import type { Signing } from '../../src/sign/signingIdentity.js';
import { ROOT, runDeps, scratchDir } from './runHarness.js';
import { createTestDatabase, type TestDatabase } from './testDatabase.js';

/** The shared hand-checked dossier of 2024 (fixtures/dossier-2024). */
export const DOSSIER_2024 = path.join(ROOT, 'fixtures/dossier-2024');

/** A database with a fixture imported, an outbox, and a way to run flows on them at a fixed instant. */
export interface FlowFixture {
  db: TestDatabase;
  outbox: string;
  run(pipeline: AnyPipeline, periodKey: string, environment?: 'R' | 'T' | 'S', signing?: Signing): Promise<RunResult>;
  /** A full replacement (a rerun sending the whole period again) of a period already run, in T, at the same instant. */
  replaceWhole(pipeline: AnyPipeline, periodKey: string): Promise<RunResult>;
  close(): Promise<void>;
}

/** Creates the fixture; runs are created on 2025-01-10 at 02:00 Brussels and are as of that instant. */
export async function createFlowFixture(folder = DOSSIER_2024, now = '2025-01-10T02:00:00+01:00'): Promise<FlowFixture> {
  const db = await createTestDatabase();
  const out = await scratchDir('flow');
  await importFolder(db.pool, folder);
  const outbox = path.join(out.dir, 'outbox');
  return {
    db,
    outbox,
    run: (pipeline, periodKey, environment = 'T', signing) =>
      runPipeline({ ...runDeps(db.pool, outbox, now), signing: signing ?? null }, { pipeline, period: parsePeriod(periodKey), environment, sender: '012345', asOf: new Date(now), dryRun: false }),
    replaceWhole: (pipeline, periodKey) =>
      runPipeline(runDeps(db.pool, outbox, now), {
        pipeline,
        period: parsePeriod(periodKey),
        environment: 'T',
        sender: '012345',
        dryRun: false,
        correction: { reason: 'resend whole (test)', full: true },
      }),
    async close() {
      await db.drop();
      await out.remove();
    },
  };
}

/**
 * A copy of a fixture folder with CSV lines appended to some of its files (a case the shared
 * fixture lacks), for createFlowFixture; remove() deletes the copy.
 */
export async function fixtureWithRows(extra: Readonly<Record<string, readonly string[]>>, folder = DOSSIER_2024): Promise<{ dir: string; remove: () => Promise<void> }> {
  const copy = await scratchDir('fixture');
  for (const f of await fs.readdir(folder)) {
    const lines = extra[f] ?? [];
    await fs.writeFile(path.join(copy.dir, f), (await fs.readFile(path.join(folder, f), 'utf8')) + lines.map((l) => `${l}\n`).join(''));
  }
  return copy;
}

/**
 * Imports into the fixture's dossier a copy of `folder` with some of its files edited (`edits`: a
 * file's name → its new text from the old), written under the fixture's folder as `name`: the
 * dossier changed between a run and its rerun.
 */
export async function importEdited(fx: FlowFixture, name: string, edits: Readonly<Record<string, (text: string) => string>>, folder = DOSSIER_2024): Promise<void> {
  const dir = path.join(path.dirname(fx.outbox), name);
  await fs.mkdir(dir);
  for (const f of await fs.readdir(folder)) {
    const text = await fs.readFile(path.join(folder, f), 'utf8');
    await fs.writeFile(path.join(dir, f), edits[f]?.(text) ?? text);
  }
  await importFolder(fx.db.pool, dir);
}

/** The 2024 fixture plus an activity of D10 whose dates straddle quarters the wrong way (2024-08-10 → 2024-03-01). */
export async function straddlingFixture(): Promise<FlowFixture> {
  const folder = await fixtureWithRows({ 'activity_periods.csv': ['D10,activity,main,2024-08-10,2024-03-01,'] });
  try {
    return await createFlowFixture(folder.dir);
  } finally {
    await folder.remove();
  }
}

/**
 * The 2024 fixture plus three mutual insurer affiliations that end before they start: D06's to 300
 * straddles quarters the wrong way (2024-08-10 → 2024-03-01; D06 is with 400 since 2010), D05's to
 * 500 (its only one) lies within 2024-Q1 (2024-02-20 → 2024-02-10), D02's to 300 within March 2024
 * (2024-03-20 → 2024-03-05; D02 is with 600 since 2010).
 */
export async function invertedAffiliationsFixture(): Promise<FlowFixture> {
  const folder = await fixtureWithRows({ 'mutuality_affiliations.csv': ['D06,300,2024-08-10,2024-03-01', 'D05,500,2024-02-20,2024-02-10', 'D02,300,2024-03-20,2024-03-05'] });
  try {
    return await createFlowFixture(folder.dir);
  } finally {
    await folder.remove();
  }
}

/** What became of one dossier record in a run of each period, run in the order given (outcomeOf). */
export async function outcomesByPeriod(fx: FlowFixture, pipeline: AnyPipeline, periods: readonly string[], sourceKey: string): Promise<Record<string, string>> {
  const outcomes: Record<string, string> = {};
  for (const period of periods) outcomes[period] = await outcomeOf(fx, await fx.run(pipeline, period), sourceKey);
  return outcomes;
}

/** What became of one dossier record in a run: its quarantine rule, `emitted`, or `absent` (not extracted). */
export async function outcomeOf(fx: FlowFixture, run: RunResult, sourceKey: string): Promise<string> {
  const { rows } = await fx.db.pool.query<{ outcome: string; rule: string | null }>('SELECT outcome, rule FROM maillon.record_outcomes WHERE run_id = $1 AND source_key = $2', [run.runId, sourceKey]);
  return rows.length === 0 ? 'absent' : rows.map((r) => r.rule ?? r.outcome).join(', ');
}
