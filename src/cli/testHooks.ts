import { existsSync } from 'node:fs';
import type { Config, Environment } from '../config/config.js';
import type { CancelStep } from '../transport/cancelSubmission.js';
import type { UploadStep } from '../transport/uploadSubmission.js';

/**
 * The hooks of the crash and stop tests (MAILLON_CRASH_AT kills the process with SIGKILL at a
 * step, MAILLON_PAUSE_AT pauses there for 3 s, or until the file MAILLON_PAUSE_UNTIL names
 * exists); none when neither is set. Never in production:
 * commands on environment R refuse to start with them set (refuseTestHooks), and they are inert
 * there besides.
 */
export function deliveryTestHooks(config: Config, environment: Environment): { onStep?: (step: UploadStep) => void | Promise<void> } {
  return stepHooks(config, environment);
}

/** The hooks of a cancel's steps: `before-td` (recorded as started, nothing written), `after-td` (the TD in place, the cancel not recorded). */
export function cancelTestHooks(config: Config, environment: Environment): { onStep?: (step: CancelStep) => void | Promise<void> } {
  return stepHooks(config, environment);
}

/** The hook of a run's steps: `before-publish` (computed and checked, nothing written yet), `after-commit` (the run's files and success are committed); a rerun's `after-plan` (its plan shown and confirmed). */
export function runTestHooks(config: Config, environment: Environment): { onStep?: (step: 'before-publish' | 'after-commit' | 'after-plan') => void | Promise<void> } {
  return stepHooks(config, environment);
}

/** True when a crash or pause hook is set: the command then works on MAILLON_ENV only (never R). */
export function hasTestHooks(config: Config): boolean {
  return Boolean(config.crashAt || config.pauseAt);
}

function stepHooks(config: Config, environment: Environment): { onStep?: (step: string) => void | Promise<void> } {
  if (environment === 'R' || (!config.crashAt && !config.pauseAt)) return {};
  return {
    onStep: async (step) => {
      if (step === config.crashAt) process.kill(process.pid, 'SIGKILL');
      if (step === config.pauseAt) await pause(config.pauseUntil);
    },
  };
}

const POLL_MS = 50;
/** A pause that ends when the test says so, never later than this: a test that fails before releasing it does not hang. */
const MOST_POLLS = (2 * 60 * 1000) / POLL_MS;

/**
 * 3 s; or, with a release file, until the test creates it: a test that runs another command in
 * the pause does not depend on how fast a loaded machine starts that command.
 */
async function pause(releaseFile: string | undefined): Promise<void> {
  if (releaseFile === undefined) return new Promise((r) => setTimeout(r, 3000));
  for (let polls = 0; polls < MOST_POLLS && !existsSync(releaseFile); polls++) await new Promise((r) => setTimeout(r, POLL_MS));
}
