import type fc from 'fast-check';
import { expect } from 'vitest';
import { career } from '../../../pipelines/career.js';
import { ingestReplies } from '../../../src/ack/ingestReplies.js';
import { runBackfill } from '../../../src/engine/backfill.js';
import { runPipeline } from '../../../src/engine/runPipeline.js';
import { importFolder } from '../../../src/import/importFolder.js';
import { readPeriodView } from '../../../src/ledger/periodView.js';
import { parsePeriod } from '../../../src/period/period.js';
import { dueDecision } from '../../../src/schedule/dueRuns.js';
import { runDueOnce } from '../../../src/schedule/runDue.js';
import { cancelSubmission } from '../../../src/transport/cancelSubmission.js';
import type { UploadStep } from '../../../src/transport/uploadSubmission.js';
import { sendSubmissions } from '../../../src/transport/sendSubmissions.js';
import { maillon } from '../cli.js';
import { checkInvariants } from './invariants.js';
import { applyExpectedReply, builtOnRejectedIn, expectedCancel, heldBackBySend, liveIn, mayHoldIn, type Model, type MReply, PERIODS, reached, serveRuns } from './model.js';
import { adoptRun, adoptSend, attempt, receiverTakes, runCareer, said } from './operate.js';
import { putReply, UNKNOWN_FILE } from './replies.js';
import type { World } from './world.js';

type Cmd = fc.AsyncCommand<Model, World>;

/** Base of every command: always runnable; after its own checks, every invariant. */
export abstract class Step implements Cmd {
  check(): boolean {
    return true;
  }
  async run(m: Model, w: World): Promise<void> {
    await this.act(m, w);
    await checkInvariants(m, w, this.toString());
  }
  abstract act(m: Model, w: World): Promise<void>;
  abstract toString(): string;
}

/** `maillon run career --period P`: an original when nothing is live, else exit 8. */
export class Run extends Step {
  constructor(readonly period: string) {
    super();
  }
  async act(m: Model, w: World): Promise<void> {
    const live = liveIn(m, this.period).length > 0;
    const out = await attempt(() => runCareer(w, this.period));
    expect(said(out), `${this.toString()}: live ${live}`).toBe(live ? 'exit 8' : 'ok');
    if ('ok' in out) expect((await adoptRun(m, w, out.ok.runId)).map((s) => s.kind)).toEqual(['original']);
  }
  toString(): string {
    return `run ${this.period}`;
  }
}

/** `maillon rerun` (twice: the second, identical, must send nothing): exit 2 when nothing is live. */
export class Rerun extends Step {
  constructor(
    readonly period: string,
    readonly full: boolean,
    readonly twice: boolean,
  ) {
    super();
  }
  async act(m: Model, w: World): Promise<void> {
    const live = liveIn(m, this.period).length > 0;
    // While the receiver may hold a cancelled submission it answered, a rerun is refused (exit 8); so
    // it is while a correction built on a version the receiver rejected since waits unsent (cancel it first).
    const mayHold = mayHoldIn(m, this.period).length > 0;
    const unsent = builtOnRejectedIn(m, this.period).some((s) => s.state === 'written' && !s.goStarted);
    const out = await attempt(() => runCareer(w, this.period, { full: this.full }));
    expect(said(out), `${this.toString()}: live ${live}, may hold ${mayHold}, unsent on a rejected version ${unsent}`).toBe(mayHold || unsent ? 'exit 8' : live ? 'ok' : 'exit 2');
    if (!('ok' in out)) return;
    // A correction of the original the receiver holds; an original when it holds none (it rejected it, and holds a correction of it).
    const holdsOriginal = liveIn(m, this.period).some((s) => s.kind === 'original');
    const kinds = (await adoptRun(m, w, out.ok.runId)).map((s) => s.kind);
    expect([[], [holdsOriginal ? (this.full ? 'replacement' : 'correction') : 'original']], `${this.toString()}: written`).toContainEqual(kinds);
    if (!this.twice) return;
    const again = await attempt(() => runCareer(w, this.period, { full: false }));
    expect(said(again), `${this.toString()}: the identical rerun`).toBe('ok');
    if ('ok' in again) expect(await adoptRun(m, w, again.ok.runId), `${this.toString()}: an identical rerun sends nothing`).toEqual([]);
  }
  toString(): string {
    return `rerun ${this.period}${this.full ? ' --full' : ''}${this.twice ? ' (twice)' : ''}`;
  }
}

/** `maillon backfill career --from A --to B`: runs exactly the periods nothing live holds. */
export class Backfill extends Step {
  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    super();
  }
  async act(m: Model, w: World): Promise<void> {
    const range = PERIODS.slice(this.from, this.to + 1);
    // A period whose receiver may hold a cancelled submission it answered needs an operator: left alone too.
    const held = (p: string): boolean => liveIn(m, p).length > 0 || mayHoldIn(m, p).length > 0;
    const expected = range.map((p) => `${p} ${held(p) ? 'left alone' : 'ran'}`);
    const out = await runBackfill(w.run, { pipeline: career, from: parsePeriod(range[0]!), to: parsePeriod(range.at(-1)!), environment: 'T', sender: '012345' });
    expect(
      out.map((o) => `${o.period} ${'ran' in o ? 'ran' : 'left alone'}`),
      `${this.toString()}`,
    ).toEqual(expected);
    for (const o of out) if ('ran' in o) expect((await adoptRun(m, w, o.ran.runId)).map((s) => s.kind)).toEqual(['original']);
  }
  toString(): string {
    return `backfill ${PERIODS[this.from]}..${PERIODS[this.to]}`;
  }
}

/** `maillon send`, whole, or killed at a step of its first delivery (nothing after it happens). */
export class Send extends Step {
  constructor(readonly killAt: UploadStep | null) {
    super();
  }
  async act(m: Model, w: World): Promise<void> {
    let dead = false;
    const onStep = (step: UploadStep): void => {
      if (dead || step === this.killAt) {
        dead = true;
        throw new Error(`killed at ${step} (model test)`);
      }
    };
    // A correction built on a version the receiver rejected since is held back, never started.
    const heldBack = heldBackBySend(m).map((s) => `#${s.id} rejected-base`);
    const out = await sendSubmissions(this.killAt ? { ...w.send, onStep } : w.send, { environment: 'T' });
    expect(
      out.filter((o) => o.result === 'rejected-base').map((o) => `#${o.submissionId} ${o.result}`),
      `${this.toString()}: held back`,
    ).toEqual(heldBack);
    if (!this.killAt)
      expect(
        out.filter((o) => o.result !== 'sent' && o.result !== 'rejected-base'),
        `${this.toString()}`,
      ).toEqual([]);
    await adoptSend(m, w, out, this.toString());
  }
  toString(): string {
    return this.killAt ? `send killed at ${this.killAt}` : 'send';
  }
}

/** `maillon send --no-acks` as a child process, SIGKILLed at a step by MAILLON_CRASH_AT. */
export class SendKilledProcess extends Step {
  constructor(readonly step: UploadStep) {
    super();
  }
  async act(m: Model, w: World): Promise<void> {
    // Not killed: every submission sent (exit 0), or one held back as built on a rejected version (exit 8).
    const done = heldBackBySend(m).length > 0 ? 8 : 0;
    const out = await maillon(['send', '--no-acks'], { ...w.cliEnv, MAILLON_CRASH_AT: this.step });
    expect(out.signal === 'SIGKILL' || out.code === done, `${this.toString()}: ${out.code} ${out.stderr.slice(-500)}`).toBe(true);
    await adoptSend(m, w, null, this.toString());
  }
  toString(): string {
    return `maillon send (process) killed at ${this.step}`;
  }
}

/** `maillon cancel <id>` of a submission of the model (or of one that does not exist). */
export class Cancel extends Step {
  constructor(readonly pick: number) {
    super();
  }
  async act(m: Model, w: World): Promise<void> {
    const s = this.pick < 0 || m.subs.length === 0 ? undefined : m.subs[this.pick % m.subs.length];
    const expected = expectedCancel(m, s);
    const out = await attempt(() => cancelSubmission(w.cancel, s?.id ?? 999_999));
    expect('ok' in out ? out.ok : said(out), `${this.toString()} #${s?.id} ${s?.state}`).toBe(expected);
    reached(`cancel ${s?.state ?? 'unknown'} → ${expected}`);
    if (s && 'ok' in out) s.state = 'cancelled';
  }
  toString(): string {
    return `cancel ${this.pick < 0 ? 'unknown' : `[${this.pick}]`}`;
  }
}

/** The receiver takes what is complete in IN (the model: everything whose GO was written, not yet taken). */
export class ReceiverTakes extends Step {
  async act(m: Model, w: World): Promise<void> {
    const taken = await receiverTakes(w);
    const expected = m.subs.filter((s) => s.goStarted && !s.taken).map((s) => s.fi);
    expect(taken.sort(), `${this.toString()}`).toEqual(expected.sort());
    for (const s of m.subs) if (taken.includes(s.fi)) s.taken = true;
  }
  toString(): string {
    return 'receiver takes IN';
  }
}

/** A reply put in OUTTEST (read by the next acks). */
export class Reply extends Step {
  constructor(
    readonly pick: number,
    readonly kind: MReply['kind'],
    readonly says: MReply['says'],
    readonly variant: MReply['variant'],
  ) {
    super();
  }
  async act(m: Model, w: World): Promise<void> {
    const s = m.subs.length === 0 || this.variant === 'unknown-file' ? undefined : m.subs[this.pick % m.subs.length];
    m.pending.push(await putReply(w, { subId: s?.id ?? null, kind: this.kind, says: this.says, variant: this.variant }, s?.fi ?? UNKNOWN_FILE));
  }
  toString(): string {
    return `reply ${this.variant} ${this.kind} ${this.says} about [${this.pick}]`;
  }
}

/** `maillon acks`: every waiting reply read once, judged as the model's rules say. */
export class Acks extends Step {
  async act(m: Model, w: World): Promise<void> {
    const out = await ingestReplies(w.acks, 'T');
    expectAcks(m, out, this.toString());
  }
  toString(): string {
    return 'acks';
  }
}

/** Checks a pass (or two concurrent ones) of acks against the waiting replies, and applies them to the model. */
export function expectAcks(m: Model, outcomes: { name: string; result: string }[], label: string, instances = 1): void {
  const reads = m.subs.some((s) => s.state !== 'written' || s.goStarted);
  if (!reads) {
    expect(outcomes, `${label}: nothing sent, no folder read`).toEqual([]);
    return;
  }
  for (const r of m.pending) {
    const expected = applyExpectedReply(m, r);
    const got = outcomes.filter((o) => o.name === r.name && o.result !== 'already-processed').map((o) => o.result);
    reached(`reply ${r.variant} ${got.join('/')}`);
    const allowed = expected === 'conflict-or-set-aside' ? ['conflict', 'set_aside'] : [expected];
    // Two instances may both find a reply unreadable and say so; the ledger records it once (its unique key).
    const once = got.length === 1 || (instances > 1 && got.length === 2 && got.every((g) => g === 'set_aside'));
    expect(once && allowed.includes(got[0]!), `${label}: ${r.variant} ${r.kind} ${r.says} ${r.name}: ${JSON.stringify(got)}, expected ${expected}`).toBe(true);
  }
  const names = new Set(m.pending.map((r) => r.name));
  expect(
    outcomes.filter((o) => !names.has(o.name) && o.result !== 'already-processed'),
    `${label}: replies read twice`,
  ).toEqual([]);
  m.pending = [];
}

/** One tick of `maillon serve` for the due period 2026-Q3: runs it only when it is to do. */
export class ServeTick extends Step {
  async act(m: Model, w: World): Promise<void> {
    const period = '2026-Q3';
    const expected = serveRuns(m, period);
    const view = await readPeriodView(w.db.pool, 'T', 'career', period);
    let ranId: number | null = null;
    const due =
      dueDecision(view, career.schedule, w.run.clock.now()) === 'propose'
        ? await runDueOnce(
            {
              ledger: w.db.pool,
              clock: w.run.clock,
              logger: w.run.logger,
              environment: 'T',
              retry: { tickSeconds: 60, limit: 5 },
              run: async (p, q) => void (ranId = (await runPipeline(w.run, { pipeline: p, period: q, environment: 'T', sender: '012345', dryRun: false, trigger: 'schedule' })).runId),
            },
            career,
            parsePeriod(period),
          )
        : 'not proposed';
    expect(due, `${this.toString()}`).toBe(expected ? 'ran' : due === 'not proposed' ? 'not proposed' : 'not-to-do');
    if (ranId !== null) expect((await adoptRun(m, w, ranId)).map((s) => s.kind)).toEqual(['original']);
  }
  toString(): string {
    return 'serve tick';
  }
}

/** `maillon import` of a changed dossier. */
export class Import extends Step {
  constructor(readonly dataset: number) {
    super();
  }
  async act(_m: Model, w: World): Promise<void> {
    await importFolder(w.db.pool, w.datasets[this.dataset % w.datasets.length]!);
  }
  toString(): string {
    return `import dossier ${this.dataset}`;
  }
}

/** The receiver takes what is complete in IN and answers some of what it took: an ACRF, then a NOTI. */
export class ReceiverAnswers extends Step {
  constructor(
    readonly acrf: MReply['says'],
    readonly noti: MReply['says'],
    readonly pick: number,
  ) {
    super();
  }
  async act(m: Model, w: World): Promise<void> {
    await new ReceiverTakes().act(m, w);
    // The receiver answers what it has not answered yet first.
    const unanswered = m.subs.filter((s) => s.taken && !s.ack && !m.pending.some((r) => r.subId === s.id));
    const taken = unanswered.length > 0 ? unanswered : m.subs.filter((s) => s.taken);
    if (taken.length === 0) return;
    const s = taken[this.pick % taken.length]!;
    m.pending.push(await putReply(w, { subId: s.id, kind: 'ACRF', says: this.acrf, variant: 'genuine' }, s.fi));
    if (this.acrf === 'received') m.pending.push(await putReply(w, { subId: s.id, kind: 'NOTI', says: this.noti, variant: 'genuine' }, s.fi));
  }
  toString(): string {
    return `receiver answers [${this.pick}]: ACRF ${this.acrf}${this.acrf === 'received' ? `, NOTI ${this.noti}` : ''}`;
  }
}
