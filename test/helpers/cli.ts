import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './runHarness.js';

/** What a CLI invocation printed and how it ended. */
export interface CliOutcome {
  code: number | null;
  /** The signal that ended the process, if one did (SIGKILL in the crash tests). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Executes bin/maillon.js as an operator does (its own #! line), with only PATH, HOME and `env`. */
function startMaillon(args: string[], env: Record<string, string | undefined>): ChildProcess {
  return spawn(path.join(ROOT, 'bin/maillon.js'), args, {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts `maillon …` as a child process and returns it (for long-running commands). */
export function spawnMaillon(args: string[], env: Record<string, string | undefined>): ChildProcess {
  const child = startMaillon(args, env);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.on('close', () => keepLogs(stderr));
  return child;
}

/** Appends a child's log lines to the file the test run scans at its end (see globalSetup). */
function keepLogs(text: string): void {
  const file = process.env['MAILLON_TEST_LOG'];
  if (file && text) appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}

/** Runs `maillon …` as a child process (not a terminal: JSON logs on stderr). */
export function maillon(args: string[], env: Record<string, string | undefined>): Promise<CliOutcome> {
  return outcome(startMaillon(args, env));
}

/** Runs `maillon …` with each file it writes limited to `bytes` (RLIMIT_FSIZE, through util-linux's prlimit). */
export function maillonUnderLimit(bytes: number, args: string[], env: Record<string, string | undefined>): Promise<CliOutcome> {
  return outcome(
    spawn('prlimit', [`--fsize=${bytes}:${bytes}`, path.join(ROOT, 'bin/maillon.js'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

function outcome(child: ChildProcess): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      keepLogs(stderr);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A rerun (or run) started with MAILLON_PAUSE_AT=after-plan: it pauses once its plan is shown and
 * confirmed, until the test releases it (MAILLON_PAUSE_UNTIL), whatever the time the test's own
 * step (another command, an import) takes on a loaded machine. `planShown` gives the output up to
 * the plan's counts line; awaiting `ended` releases the pause, then gives the exit code and the
 * outputs.
 */
export function pausedAfterPlan(
  args: string[],
  env: Record<string, string>,
): { planShown: Promise<string>; ended: PromiseLike<{ code: number | null; stdout: string; stderr: string }>; release: () => Promise<void> } {
  const releaseFile = path.join(os.tmpdir(), `maillon-pause-${process.pid}-${randomUUID()}`);
  const release = (): Promise<void> => fs.writeFile(releaseFile, '');
  const child = spawnMaillon(args, { ...env, MAILLON_PAUSE_AT: 'after-plan', MAILLON_PAUSE_UNTIL: releaseFile });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const planShown = new Promise<string>((resolve) =>
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (/^ {2}extracted /m.test(stdout)) resolve(stdout);
    }),
  );
  const closed = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  // Awaiting `ended` releases the pause: started only then, not when the rerun is spawned.
  let end: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
  const ended: PromiseLike<{ code: number | null; stdout: string; stderr: string }> = {
    then: (onEnd, onError) =>
      (end ??= release()
        .then(() => closed)
        .finally(() => fs.rm(releaseFile, { force: true }))).then(onEnd, onError),
  };
  return { planShown, ended, release };
}
