import fs from 'node:fs/promises';
import path from 'node:path';
import type { AckDeps } from '../../../src/ack/ingestReplies.js';
import { fixedClock } from '../../../src/clock/clock.js';
import type { RunDeps } from '../../../src/engine/runPipeline.js';
import { createLogger } from '../../../src/log/logger.js';
import type { CancelDeps } from '../../../src/transport/cancelSubmission.js';
import { loadEndpoints } from '../../../src/transport/receivers.js';
import type { SendDeps } from '../../../src/transport/sendSubmissions.js';
import { runDeps } from '../runHarness.js';
import { type TestSshd, writeReceiversFile } from '../sshd.js';
import { createTestDatabase, type TestDatabase } from '../testDatabase.js';

/** The instant of every command of the model test: career's 2026-Q3 is due (it fires on 10 October). */
export const MODEL_NOW = '2026-10-10T02:00:30+02:00';

/** What every sequence shares: the OpenSSH server, a scratch folder and the dossier variants to import. */
export interface Shared {
  sshd: TestSshd;
  dir: string;
  /** Dossier folders (CSV contract), each a change of the one before. */
  datasets: string[];
}

/** The real system of one sequence: its own ledger database, outbox and SFTP folders on the shared sshd. */
export interface World {
  db: TestDatabase;
  run: RunDeps;
  send: SendDeps;
  acks: AckDeps;
  cancel: CancelDeps;
  /** The partner's folders: IN (with the receiver's .processed and .cancelled), OUTTEST. */
  inDir: string;
  outTestDir: string;
  /** Environment of a `maillon` child process working on this world. */
  cliEnv: Record<string, string>;
  datasets: string[];
  /** The next free reply sequence (5 characters, increasing: the channel's order is the order they were put). */
  nextReplySequence(): string;
  close(): Promise<void>;
}

let worlds = 0;

/** Creates the world of one sequence; its database is cloned from the migrated template. */
export async function createWorld(shared: Shared): Promise<World> {
  const n = ++worlds;
  const base = path.join(shared.dir, `w${n}`);
  const root = path.join(shared.sshd.root, `w${n}`);
  for (const sub of ['IN', 'OUT', 'OUTTEST']) await fs.mkdir(path.join(root, sub), { recursive: true });
  await fs.mkdir(base, { recursive: true, mode: 0o700 });
  const receivers = await writeReceiversFile(shared.sshd, path.join(base, 'receivers.json'), {
    inDir: path.join(root, 'IN'),
    outDir: path.join(root, 'OUT'),
    outTestDir: path.join(root, 'OUTTEST'),
  });
  const db = await createTestDatabase();
  const clock = fixedClock(MODEL_NOW);
  const logger = createLogger('silent');
  const endpoints = loadEndpoints(receivers);
  const common = { ledger: db.pool, clock, logger, endpoints, passphrase: () => undefined };
  let replySequence = 10_000;
  return {
    db,
    run: runDeps(db.pool, path.join(base, 'outbox'), MODEL_NOW),
    send: { ...common, backoffMs: 10 },
    acks: { ...common, repliesDir: path.join(base, 'replies'), maxReplyBytes: 1_000_000 },
    cancel: common,
    inDir: path.join(root, 'IN'),
    outTestDir: path.join(root, 'OUTTEST'),
    cliEnv: { DATABASE_URL: db.url, MAILLON_HOME: base, MAILLON_SENDER: '012345', MAILLON_RECEIVERS: receivers, MAILLON_ENV: 'T', MAILLON_LOG_LEVEL: 'warn' },
    datasets: shared.datasets,
    nextReplySequence: () => String(++replySequence),
    async close() {
      await db.drop();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}
