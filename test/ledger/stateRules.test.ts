import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { applyTestReply } from '../helpers/applyTestReply.js';
import type { Acrf, Noti } from '../../src/ack/replyXml.js';
import { fixedClock } from '../../src/clock/clock.js';
import { connect, createPool, type Pool, type PoolClient, withTransaction } from '../../src/db/database.js';
import { runBackfill } from '../../src/engine/backfill.js';
import { type RunDeps, runPipeline } from '../../src/engine/runPipeline.js';
import { MaillonError } from '../../src/errors/errors.js';
import { importFolder } from '../../src/import/importFolder.js';
import { tryLockPeriod } from '../../src/ledger/locks.js';
import { recordPeriodFailure } from '../../src/ledger/periodRetries.js';
import { readPeriodView } from '../../src/ledger/periodView.js';
import { startRun } from '../../src/ledger/runs.js';
import { createLogger } from '../../src/log/logger.js';
import { parsePeriod } from '../../src/period/period.js';
import { dueDecision } from '../../src/schedule/dueRuns.js';
import { runDueOnce } from '../../src/schedule/runDue.js';
import { cancelSubmission } from '../../src/transport/cancelSubmission.js';
import { type Endpoints, loadEndpoints } from '../../src/transport/receivers.js';
import { sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { ROOT, runDeps, scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** The table of docs/state-rules.md: one row per state, one column per command, each cell checked. */
type Command = 'run' | 'rerun' | 'backfill' | 'send' | 'cancel' | 'acks' | 'serve';
type State =
  | 'nothing'
  | 'written'
  | 'written, GO started'
  | 'written, TD started'
  | 'sent, GO waiting'
  | 'sent, GO taken'
  | 'received'
  | 'accepted'
  | 'accepted_with_anomalies'
  | 'rejected'
  | 'correction on rejected'
  | 'cancelled'
  | 'run running'
  | 'run failed'
  | 'given up';

const ROWS: Record<State, Record<Command, string>> = {
  nothing: { run: 'original written', rerun: 'exit 2', backfill: 'original written', send: 'nothing', cancel: 'exit 4', acks: 'nothing', serve: 'ran' },
  written: { run: 'exit 8', rerun: 'replacement written', backfill: 'left alone', send: 'sent', cancel: 'cancelled-locally', acks: 'written', serve: 'not run' },
  'written, GO started': { run: 'exit 8', rerun: 'replacement written', backfill: 'left alone', send: 'sent', cancel: 'td-written', acks: 'accepted', serve: 'not run' },
  'written, TD started': { run: 'exit 8', rerun: 'exit 8', backfill: 'left alone', send: 'cancel-started', cancel: 'td-written', acks: 'accepted', serve: 'not run' },
  'sent, GO waiting': { run: 'exit 8', rerun: 'replacement written', backfill: 'left alone', send: 'nothing', cancel: 'td-written', acks: 'accepted', serve: 'not run' },
  'sent, GO taken': { run: 'exit 8', rerun: 'replacement written', backfill: 'left alone', send: 'nothing', cancel: 'exit 8', acks: 'accepted', serve: 'not run' },
  received: { run: 'exit 8', rerun: 'replacement written', backfill: 'left alone', send: 'nothing', cancel: 'exit 8', acks: 'accepted', serve: 'not run' },
  accepted: { run: 'exit 8', rerun: 'replacement written', backfill: 'left alone', send: 'nothing', cancel: 'exit 8', acks: 'accepted', serve: 'not run' },
  accepted_with_anomalies: { run: 'exit 8', rerun: 'replacement written', backfill: 'left alone', send: 'nothing', cancel: 'exit 8', acks: 'accepted_with_anomalies', serve: 'not run' },
  rejected: { run: 'original written', rerun: 'exit 2', backfill: 'original written', send: 'nothing', cancel: 'exit 8', acks: 'rejected', serve: 'not run' },
  'correction on rejected': { run: 'exit 8', rerun: 'exit 8', backfill: 'left alone', send: 'rejected-base', cancel: 'cancelled-locally', acks: 'written', serve: 'not run' },
  cancelled: { run: 'original written', rerun: 'exit 2', backfill: 'original written', send: 'nothing', cancel: 'already-cancelled', acks: 'cancelled', serve: 'ran' },
  'run running': { run: 'exit 8', rerun: 'exit 8', backfill: 'left alone', send: 'nothing', cancel: 'exit 4', acks: 'nothing', serve: 'not run' },
  'run failed': { run: 'original written', rerun: 'exit 2', backfill: 'original written', send: 'nothing', cancel: 'exit 4', acks: 'nothing', serve: 'ran' },
  'given up': { run: 'original written', rerun: 'exit 2', backfill: 'original written', send: 'nothing', cancel: 'exit 4', acks: 'nothing', serve: 'not run' },
};

// Each command acts on a period of its own; serve's is the one due at NOW (career fires on 10 October).
const PERIOD: Record<Command, string> = { run: '2026-Q2', rerun: '2026-Q1', backfill: '2025-Q4', send: '2025-Q3', cancel: '2025-Q2', acks: '2025-Q1', serve: '2026-Q3' };
const NOW = '2026-10-10T02:00:30+02:00';
const clock = fixedClock(NOW);
const logger = createLogger('silent');

/** Everything one row needs: its own database and its own folders on the SFTP server. */
interface Row {
  db: TestDatabase;
  deps: RunDeps;
  endpoints: Endpoints;
  inDir: string;
  /** Sessions of the simulated live runs (a pool of their own: they are held for the whole row). */
  runs: Pool;
  held: PoolClient[];
}

const crashAfterGo = (step: string): void => {
  if (step === 'after-go') throw new Error('stopped after the GO (test)');
};

async function latest(r: Row, period: string): Promise<{ id: number; state: string; name: string } | null> {
  const res = await r.db.pool.query(
    `SELECT s.submission_id AS id, s.state, f.name FROM maillon.submissions s JOIN maillon.files f USING (submission_id)
     WHERE s.period = $1 AND f.kind = 'FI' ORDER BY s.submission_id DESC LIMIT 1`,
    [period],
  );
  return res.rows[0] ? { id: Number(res.rows[0].id), state: res.rows[0].state, name: res.rows[0].name } : null;
}

let replies = 0;
async function reply(r: Row, name: string, ...answers: (Acrf | Noti)[]): Promise<void> {
  for (const rep of answers) {
    // A reply the ledger refuses to apply (a conflict) changes nothing either.
    await withTransaction(r.db.pool, (tx) => applyTestReply(tx, `reply ${++replies} for ${name}`, clock.now(), rep)).catch(() => undefined);
  }
}
const acrf = (fileName: string, accepted = true): Acrf => ({ kind: 'ACRF', fileName, accepted, errorIds: accepted ? [] : ['E001'] });
const noti = (fileName: string, result: Noti['result']): Noti => ({ kind: 'NOTI', fileName, result, anomalies: [] });

/** Brings a period into a state with the real operations (a live run is its session holding the run's and the period's locks). */
async function into(r: Row, state: State, period: string): Promise<void> {
  if (state === 'nothing') return;
  if (state === 'run running') {
    const session = await connect(r.runs);
    r.held.push(session);
    await startRun(session, { flow: 'career', period, environment: 'T', asOf: clock.now(), dryRun: false }, clock.now());
    expect(await tryLockPeriod(session, 'career', period, 'T')).toBe(true);
    return;
  }
  if (state === 'run failed' || state === 'given up') {
    const broken = { ...r.deps, outbox: path.join(ROOT, 'package.json') };
    await expect(runPipeline(broken, { pipeline: career, period: parsePeriod(period), environment: 'T', sender: '012345', dryRun: false })).rejects.toThrow();
    for (let i = 0; state === 'given up' && i < 5; i++) await recordPeriodFailure(r.db.pool, { flow: 'career', period, environment: 'T' }, clock.now(), 'disk full', { tickSeconds: 60, limit: 5 });
    return;
  }
  await runPipeline(r.deps, { pipeline: career, period: parsePeriod(period), environment: 'T', sender: '012345', dryRun: false });
  const s = (await latest(r, period))!;
  if (state === 'written') return;
  if (state === 'cancelled') {
    await cancelSubmission({ ledger: r.db.pool, clock, logger, endpoints: r.endpoints, passphrase: () => undefined }, s.id);
    return;
  }
  const send = { ledger: r.db.pool, clock, logger, endpoints: r.endpoints, passphrase: () => undefined, backoffMs: 10 };
  await sendSubmissions(state === 'written, GO started' || state === 'written, TD started' ? { ...send, onStep: crashAfterGo } : send, { period });
  if (state === 'written, TD started') {
    // A cancel stopped once its TD is in place, before it recorded the cancel.
    const onStep = (step: string): void => {
      if (step === 'after-td') throw new Error('stopped after the TD (test)');
    };
    await expect(cancelSubmission({ ledger: r.db.pool, clock, logger, endpoints: r.endpoints, passphrase: () => undefined, onStep }, s.id)).rejects.toThrow('stopped after the TD');
  }
  if (state === 'sent, GO taken') for (const n of await fs.readdir(r.inDir)) if (n.includes(s.name.slice(3, -4))) await fs.rm(path.join(r.inDir, n));
  if (state === 'received') await reply(r, s.name, acrf(s.name));
  if (state === 'accepted' || state === 'accepted_with_anomalies') await reply(r, s.name, acrf(s.name), noti(s.name, state));
  if (state === 'rejected') await reply(r, s.name, acrf(s.name, false));
  if (state === 'correction on rejected') {
    // A replacement written on top of the sent original, then the receiver rejects the original.
    await runPipeline(r.deps, { pipeline: career, period: parsePeriod(period), environment: 'T', sender: '012345', dryRun: false, correction: { reason: 'table', full: true } });
    await reply(r, s.name, acrf(s.name, false));
  }
}

/** Runs one command on its period and says what happened, in the words of the table. */
async function act(r: Row, command: Command, state: State): Promise<string> {
  const period = PERIOD[command];
  const before = await latest(r, period);
  const request = { pipeline: career, period: parsePeriod(period), environment: 'T' as const, sender: '012345', dryRun: false };
  const written = async (): Promise<string> => {
    const after = await latest(r, period);
    const kind = (await r.db.pool.query('SELECT kind FROM maillon.submissions WHERE submission_id = $1', [after!.id])).rows[0].kind;
    return `${kind} written`;
  };
  try {
    switch (command) {
      case 'run':
        await runPipeline(r.deps, request);
        return await written();
      case 'rerun':
        await runPipeline(r.deps, { ...request, correction: { reason: 'table', full: true } });
        return await written();
      case 'backfill': {
        const [o] = await runBackfill(r.deps, { pipeline: career, from: request.period, to: request.period, environment: 'T', sender: '012345' });
        return 'ran' in o! ? await written() : 'left alone';
      }
      case 'send': {
        const out = await sendSubmissions({ ledger: r.db.pool, clock, logger, endpoints: r.endpoints, passphrase: () => undefined, backoffMs: 10 }, { period });
        return out.length === 0 ? 'nothing' : out.map((o) => o.result).join(', ');
      }
      case 'cancel':
        return await cancelSubmission({ ledger: r.db.pool, clock, logger, endpoints: r.endpoints, passphrase: () => undefined }, before?.id ?? 999_999);
      case 'acks': {
        if (!before) return 'nothing';
        // A contradiction for a final submission, the expected answer otherwise.
        await reply(r, before.name, acrf(before.name), noti(before.name, state === 'accepted' || state === 'accepted_with_anomalies' ? 'rejected' : 'accepted'));
        return (await latest(r, period))!.state;
      }
      case 'serve': {
        const view = await readPeriodView(r.db.pool, 'T', 'career', period);
        if (dueDecision(view, career.schedule, clock.now()) !== 'propose') return 'not run';
        const due = await runDueOnce(
          {
            ledger: r.db.pool,
            clock,
            logger,
            environment: 'T',
            retry: { tickSeconds: 60, limit: 5 },
            run: async (p, q) => void (await runPipeline(r.deps, { ...request, pipeline: p, period: q, trigger: 'schedule' })),
          },
          career,
          request.period,
        );
        return due === 'ran' ? 'ran' : 'not run';
      }
    }
  } catch (err) {
    // A refusal is an outcome of the table; anything else is a defect.
    if (err instanceof MaillonError) return `exit ${err.exitCode}`;
    throw err;
  }
}

describe('docs/state-rules.md: every command in every state', () => {
  let sshd: TestSshd;
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    sshd = await requireTestSshd();
    tmp = await scratchDir('state-rules');
  });
  afterAll(async () => {
    await sshd?.stop();
    await tmp?.remove();
  });

  it.each(Object.entries(ROWS) as [State, Record<Command, string>][])('%s', async (state, expected) => {
    const db = await createTestDatabase();
    // Each row its own folders (upper case kept: 'GO started' and 'TD started' are two rows).
    const root = path.join(sshd.root, state.replace(/[^a-zA-Z_]+/g, '-'));
    for (const sub of ['IN', 'OUT', 'OUTTEST']) await fs.mkdir(path.join(root, sub), { recursive: true });
    const file = await writeReceiversFile(sshd, path.join(tmp.dir, `${path.basename(root)}.json`), {
      inDir: path.join(root, 'IN'),
      outDir: path.join(root, 'OUT'),
      outTestDir: path.join(root, 'OUTTEST'),
    });
    const r: Row = {
      db,
      deps: runDeps(db.pool, path.join(tmp.dir, path.basename(root), 'outbox'), NOW),
      endpoints: loadEndpoints(file),
      inDir: path.join(root, 'IN'),
      runs: createPool(db.url, 8),
      held: [],
    };
    try {
      await importFolder(db.pool, path.join(ROOT, 'fixtures/career/input'));
      const commands = Object.keys(PERIOD) as Command[];
      for (const c of commands) await into(r, state, PERIOD[c]);
      const actual: Record<string, string> = {};
      for (const c of commands) actual[c] = await act(r, c, state);
      expect(actual).toEqual(expected);
    } finally {
      for (const s of r.held) s.release(new Error('the simulated run ends'));
      await r.runs.end();
      await db.drop();
    }
  });
});
