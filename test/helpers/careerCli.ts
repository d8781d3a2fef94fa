import path from 'node:path';
import { createFlowFixture, type FlowFixture } from './flowFixture.js';
import { ROOT } from './runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from './sshd.js';

/** The instant of the fixture's runs: 2026-10-10 at 02:00 Brussels. */
const NOW = '2026-10-10T02:00:00+02:00';

/** The career dossier, a real OpenSSH server as every receiver, and the environment `maillon …` runs with against both. */
export interface CareerCli {
  sshd: TestSshd;
  /** Runs are created at 2026-10-10 02:00 Brussels; its outbox's folder is MAILLON_HOME. */
  fx: FlowFixture;
  /** The receivers file (MAILLON_RECEIVERS): its "*" endpoint is `sshd`. */
  receivers: string;
  /** DATABASE_URL, MAILLON_HOME, MAILLON_SENDER and MAILLON_RECEIVERS, for the CLI helpers' `env`. */
  env: Record<string, string>;
  /** Stops the server, then drops the database and removes the folders. */
  close(): Promise<void>;
}

/** Starts the server and creates the dossier's database; what it started is stopped again if a later step fails. */
export async function createCareerCli(): Promise<CareerCli> {
  const sshd = await requireTestSshd();
  const fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), NOW).catch(async (e: unknown) => {
    await sshd.stop();
    throw e;
  });
  const close = async (): Promise<void> => {
    await sshd.stop();
    await fx.close();
  };
  try {
    const home = path.dirname(fx.outbox);
    const receivers = await writeReceiversFile(sshd, path.join(home, 'receivers.json'));
    return { sshd, fx, receivers, env: { DATABASE_URL: fx.db.url, MAILLON_HOME: home, MAILLON_SENDER: '012345', MAILLON_RECEIVERS: receivers }, close };
  } catch (e) {
    await close();
    throw e;
  }
}
