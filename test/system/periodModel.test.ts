import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { parsePeriod } from '../../src/period/period.js';
import { Acks, Backfill, Cancel, Import, ReceiverAnswers, ReceiverTakes, Reply, Rerun, Run, Send, SendKilledProcess, ServeTick } from '../helpers/model/commands.js';
import { Concurrently, type Pair } from '../helpers/model/concurrent.js';
import { coverage, emptyModel, type Model, type MReply, PERIODS, type ReplyVariant } from '../helpers/model/model.js';
import { createWorld, type Shared, type World } from '../helpers/model/world.js';
import { scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd } from '../helpers/sshd.js';

/**
 * Issue 20, point 7: random sequences of operator commands and receiver behaviour against the
 * real PostgreSQL and OpenSSH, each step checked against an independent model (docs/testing.md).
 * MAILLON_MODEL_RUNS sequences (default 3); a failure prints the seed and path to replay it with
 * MAILLON_MODEL_SEED and MAILLON_MODEL_PATH.
 */
const RUNS = Number(process.env['MAILLON_MODEL_RUNS'] ?? 3);
const SEED = process.env['MAILLON_MODEL_SEED'] ? Number(process.env['MAILLON_MODEL_SEED']) : Date.now() % 2 ** 31;
// MAILLON_MODEL_PATH: fast-check's counterexample path, then ~ and the commands' replay path.
const [PATH, REPLAY] = (process.env['MAILLON_MODEL_PATH'] ?? '').split('~') as [string, string | undefined];
/** A time budget in minutes (fast-check stops starting sequences, and shrinking, after it). */
const MINUTES = process.env['MAILLON_MODEL_MINUTES'] ? Number(process.env['MAILLON_MODEL_MINUTES']) : undefined;
const MAX_COMMANDS = Number(process.env['MAILLON_MODEL_COMMANDS'] ?? 30);

const period = fc.integer({ min: 0, max: PERIODS.length - 1 }).map((i) => PERIODS[i]!);
const step = fc.constantFrom<'before-upload' | 'after-upload' | 'after-rename' | 'after-go'>('before-upload', 'after-upload', 'after-rename', 'after-go');
const pick = fc.integer({ min: 0, max: 20 });
const hostile: ReplyVariant[] = ['unknown-file', 'zip-dotdot', 'attestation-abc', 'attestation-huge', 'nul-byte', 'directory'];

/** Each command with its weight: the receiver's side (sends, pick-ups, replies) comes often enough to reach every state. */
const commands: [fc.Arbitrary<fc.AsyncCommand<Model, World>>, number][] = [
  [period.map((p) => new Run(p)), 3],
  [fc.record({ p: period, full: fc.boolean(), twice: fc.boolean() }).map(({ p, full, twice }) => new Rerun(p, full, twice)), 2],
  [fc.record({ a: fc.integer({ min: 0, max: 2 }), b: fc.integer({ min: 0, max: 2 }) }).map(({ a, b }) => new Backfill(Math.min(a, b), Math.max(a, b))), 1],
  [fc.option(step, { freq: 2 }).map((s) => new Send(s)), 4],
  [fc.oneof(pick, fc.constant(-1)).map((i) => new Cancel(i)), 2],
  [fc.constant(new ReceiverTakes()), 1],
  [
    fc
      .record({ ok: fc.boolean(), noti: fc.constantFrom<MReply['says']>('accepted', 'accepted', 'accepted_with_anomalies', 'rejected'), i: pick })
      .map(({ ok, noti, i }) => new ReceiverAnswers(ok || noti !== 'rejected' ? 'received' : 'rejected', noti, i)),
    3,
  ],
  [
    fc
      .record({ i: pick, acrf: fc.boolean(), says: fc.constantFrom(0, 1, 1, 2), env: fc.constantFrom<ReplyVariant>('genuine', 'genuine', 'genuine', 'genuine', 'named-S', 'named-R') })
      .map(
        ({ i, acrf, says, env }) =>
          new Reply(i, acrf ? 'ACRF' : 'NOTI', acrf ? (says === 0 ? 'rejected' : 'received') : (['accepted', 'accepted_with_anomalies', 'accepted', 'rejected'] as const)[says], env),
      ),
    5,
  ],
  [fc.record({ i: pick, v: fc.constantFrom(...hostile) }).map(({ i, v }) => new Reply(i, 'NOTI', 'accepted', v)), 2],
  [fc.constant(new Acks()), 4],
  [fc.constant(new ServeTick()), 1],
  [fc.integer({ min: 0, max: 2 }).map((k) => new Import(k)), 1],
  [
    fc
      .record({ pair: fc.constantFrom<Pair>('run+run', 'run+backfill', 'send+send', 'send+cancel', 'cancel+cancel', 'acks+acks'), p: period, i: pick })
      .map(({ pair, p, i }) => new Concurrently(pair, p, i)),
    2,
  ],
];
/** A real SIGKILL of a child process: slow (a process start), so rare; MAILLON_MODEL_PROCESSES sets its weight (default 1, 0: never). */
const killed = step.map((s) => new SendKilledProcess(s));

describe('one truth per period: a model-based test (issue 20, point 7)', () => {
  let shared: Shared;
  let tmp: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    tmp = await scratchDir('period-model');
    const datasets: string[] = [];
    // The same seed grows and shrinks: records come, change and vanish between imports.
    for (const [i, affiliates] of [6, 9, 4].entries()) {
      const out = path.join(tmp.dir, `dossier-${i}`);
      await generateDataset({ affiliates, seed: 20, out, invalidRate: 0.2, lastQuarter: parsePeriod('2026-Q3') });
      datasets.push(out);
    }
    shared = { sshd: await requireTestSshd(), dir: tmp.dir, datasets };
  });
  afterAll(async () => {
    await shared?.sshd.stop();
    await tmp?.remove();
  });

  it('a correction written before its original is rejected: held back by send, a rerun refused until it is cancelled, then the period run again (review item 1)', async () => {
    const world = await createWorld(shared);
    try {
      await new Import(0).act(emptyModel(), world);
      const model = emptyModel();
      const before = coverage.get('correction built on a rejected version') ?? 0;
      await fc.asyncModelRun(
        () => ({ model, real: world }),
        [
          // Unsent when the original is rejected: held back; rerun refused; cancel it, run the period again.
          new Run('2026-Q2'),
          new Send(null),
          new Import(1),
          new Rerun('2026-Q2', false, false),
          new ReceiverAnswers('rejected', 'rejected', 0),
          new Acks(),
          new Send(null),
          new Rerun('2026-Q2', true, false),
          new Cancel(1),
          new Run('2026-Q2'),
          new Send(null),
          new ReceiverAnswers('received', 'accepted', 0),
          new Acks(),
          // Sent, then the original rejected and the correction accepted: rerun --full sends every record again.
          new Run('2026-Q3'),
          new Send(null),
          new Import(2),
          new Rerun('2026-Q3', false, false),
          new Send(null),
          new ReceiverAnswers('rejected', 'rejected', 0),
          new ReceiverAnswers('received', 'accepted', 0),
          new Acks(),
          new Rerun('2026-Q3', true, false),
          new Send(null),
          new ReceiverAnswers('received', 'accepted', 0),
          new Acks(),
        ],
      );
      expect(model.subs.map((s) => `#${s.id} ${s.period} ${s.kind} ${s.state}`)).toEqual([
        '#1 2026-Q2 original rejected',
        '#2 2026-Q2 correction cancelled',
        '#3 2026-Q2 original accepted',
        '#4 2026-Q3 original rejected',
        '#5 2026-Q3 correction accepted',
        '#6 2026-Q3 original accepted',
      ]);
      expect(coverage.get('correction built on a rejected version') ?? 0).toBeGreaterThan(before);
    } finally {
      await world.close();
    }
  }, 300_000);

  it(
    `keeps the ledger, the server and the views true over ${RUNS} random sequences`,
    async () => {
      const weighted = [...commands.map(([arbitrary, weight]) => ({ arbitrary, weight })), { arbitrary: killed, weight: Number(process.env['MAILLON_MODEL_PROCESSES'] ?? 1) }].filter(
        (c) => c.weight > 0,
      );
      const property = fc.asyncProperty(fc.commands([fc.oneof(...weighted)], { maxCommands: MAX_COMMANDS, size: 'max', ...(REPLAY ? { replayPath: REPLAY } : {}) }), async (cmds) => {
        const world = await createWorld(shared);
        try {
          // Every sequence starts from an imported dossier.
          await new Import(0).act(emptyModel(), world);
          const model = emptyModel();
          await fc.asyncModelRun(() => ({ model, real: world }), cmds);
          if (process.env['MAILLON_MODEL_VERBOSE']) console.log(`${fc.stringify(cmds)}\n  → ${model.subs.map((s) => `#${s.id} ${s.period} ${s.kind} ${s.state}`).join(', ')}`);
        } finally {
          await world.close();
        }
      });
      const started = Date.now();
      const details = await fc.check(property, {
        numRuns: RUNS,
        seed: SEED,
        ...(PATH ? { path: PATH } : {}),
        ...(MINUTES ? { interruptAfterTimeLimit: MINUTES * 60_000 } : {}),
        endOnFailure: process.env['MAILLON_MODEL_SHRINK'] === '0',
      });
      const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
      if (details.failed) {
        const replayPath = /replayPath="([^"]*)"/.exec(fc.stringify(details.counterexample?.[0]))?.[1];
        const modelPath = `${details.counterexamplePath}${replayPath ? `~${replayPath}` : ''}`;
        const replay = `MAILLON_MODEL_SEED=${details.seed} MAILLON_MODEL_PATH='${modelPath}' npx vitest run test/system/periodModel.test.ts`;
        throw new Error(
          `${fc.defaultReportMessage(details)}\n\nThe failure: ${(details.errorInstance as Error | undefined)?.stack ?? String(details.errorInstance)}\n\nReplay this sequence: ${replay}\n(${details.numRuns} sequences, ${took})`,
        );
      }
      console.log(
        `period model: ${details.numRuns} sequences passed${details.interrupted ? ' (time budget reached)' : ''}, seed ${details.seed}, ${took}; reached: ${[...coverage]
          .sort()
          .map(([k, n]) => `${k} ×${n}`)
          .join(', ')}`,
      );
    },
    ((MINUTES ?? RUNS) + 15) * 60_000,
  );
});
