import { type ChildProcess, spawn } from 'node:child_process';
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

/** Starts `maillon …` as a child process and returns it (for long-running commands). */
export function spawnMaillon(args: string[], env: Record<string, string | undefined>): ChildProcess {
  return spawn(process.execPath, [path.join(ROOT, 'bin/maillon.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `maillon …` as a child process (not a terminal: JSON logs on stderr). */
export function maillon(args: string[], env: Record<string, string | undefined>): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/maillon.js'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
