import { spawnSync } from 'node:child_process';
import { accessSync, constants, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The system tools the tests use when present, each with the npm counterpart used otherwise
 * (docs/testing-without-system-tools.md). MAILLON_TEST_STRICT=1 (CI) forbids the counterparts:
 * the run fails at its start naming what is missing. MAILLON_TEST_HIDE_TOOLS (a comma list)
 * makes tools count as absent, to prove the counterparts on a machine that has the real ones.
 */
export const TOOLS = {
  xmllint: { missing: 'xmllint is missing (install libxml2-utils)', substitute: "xmllint -> xmllint-wasm (the tests of native xmllint's validation reading along do not run)" },
  sshd: { missing: 'sshd is missing (install openssh-server)', substitute: 'sshd -> the in-process ssh2 SFTP server (src/transport/embeddedSftpServer.ts)' },
  chromium: { missing: 'chromium is missing (install chromium)', substitute: 'chromium -> jsdom (the HTML parsed as the HTML standard says, no layout)' },
  root: { missing: 'the run is not root (the disk-full test mounts a tmpfs)', substitute: 'tmpfs (needs root) -> RLIMIT_FSIZE for the disk-full test (EFBIG, not ENOSPC)' },
} as const;
export type ToolName = keyof typeof TOOLS;

/** Where each tool was found (null: absent or hidden), as the global setup found them. */
export type ToolPaths = Record<ToolName, string | null>;

const hidden = (env: NodeJS.ProcessEnv): Set<string> =>
  new Set(
    (env['MAILLON_TEST_HIDE_TOOLS'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

function runs(file: string, args: readonly string[]): boolean {
  const r = spawnSync(file, args, { stdio: 'ignore', timeout: 30_000 });
  return !r.error && r.status === 0;
}

function onPath(name: string, env: NodeJS.ProcessEnv, extra: readonly string[] = []): string | null {
  for (const dir of [...(env['PATH'] ?? '').split(':').filter(Boolean), ...extra]) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not there
    }
  }
  return null;
}

/** Looks every tool up: on PATH (sshd also in the sbin folders, often off a user's PATH), and runnable. */
export function findTools(env: NodeJS.ProcessEnv = process.env): ToolPaths {
  const hide = hidden(env);
  const xmllint = onPath('xmllint', env);
  const sshd = onPath('sshd', env, ['/usr/sbin', '/usr/local/sbin']);
  const chromium = onPath('chromium', env) ?? onPath('chromium-browser', env);
  const found: ToolPaths = {
    xmllint: xmllint && runs(xmllint, ['--version']) ? xmllint : null,
    // sshd has no harmless version flag everywhere; `-t` needs a configuration: found is enough.
    sshd,
    chromium: chromium && runs(chromium, ['--version']) ? chromium : null,
    root: process.getuid?.() === 0 ? 'root' : null,
  };
  for (const name of Object.keys(found) as ToolName[]) if (hide.has(name)) found[name] = null;
  return found;
}

/** Throws, naming each missing tool and its package, when MAILLON_TEST_STRICT=1 and any is missing. */
export function requireAllUnderStrict(found: ToolPaths, env: NodeJS.ProcessEnv = process.env): void {
  if (env['MAILLON_TEST_STRICT'] !== '1') return;
  const missing = (Object.keys(found) as ToolName[]).filter((n) => found[n] === null);
  if (missing.length === 0) return;
  throw new Error(
    `MAILLON_TEST_STRICT=1 forbids substitutions, and ${missing.map((n) => TOOLS[n].missing).join(', ')}. Install what is missing (as .ci/run does), or unset MAILLON_TEST_STRICT to test with the npm counterparts.`,
  );
}

/** The closing line of the run: each substitution, or that there was none. */
export function substitutionLine(found: ToolPaths): string {
  const missing = (Object.keys(found) as ToolName[]).filter((n) => found[n] === null);
  if (missing.length === 0) return 'substitutions: none (xmllint, sshd, chromium found; running as root)';
  return `substitutions: ${missing.map((n) => TOOLS[n].substitute).join('; ')}`;
}

/**
 * Hides the absent-or-hidden tools from maillon itself too (it looks xmllint up on PATH): a
 * folder of stand-ins that fail, put first on PATH. Returns the new PATH.
 */
export function shadowPath(found: ToolPaths, dir: string, env: NodeJS.ProcessEnv = process.env): string {
  mkdirSync(dir, { recursive: true });
  for (const name of ['xmllint', 'chromium', 'chromium-browser', 'sshd'] as const) {
    const tool = name.startsWith('chromium') ? 'chromium' : name;
    if (found[tool as ToolName] !== null) continue;
    const file = path.join(dir, name);
    writeFileSync(file, `#!/bin/sh\necho "${name}: hidden for this test run (MAILLON_TEST_HIDE_TOOLS)" >&2\nexit 127\n`);
    chmodSync(file, 0o755);
  }
  return `${dir}:${env['PATH'] ?? ''}`;
}

/** The tools as the global setup found them (it passes them to the test processes). */
export function tools(): ToolPaths {
  const passed = process.env['MAILLON_TEST_TOOLS'];
  return passed ? (JSON.parse(passed) as ToolPaths) : findTools();
}

/**
 * A tool one test file uses (promtool…): its path, or null when absent or hidden (the test then
 * checks what it can without it and says so). Under MAILLON_TEST_STRICT=1 absence is an error.
 */
export function optionalTool(name: string, pkg: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const file = hidden(env).has(name) ? null : onPath(name, env);
  const found = file && runs(file, ['--version']) ? file : null;
  if (!found && env['MAILLON_TEST_STRICT'] === '1') throw new Error(`MAILLON_TEST_STRICT=1 forbids substitutions, and ${name} is missing (install ${pkg}).`);
  return found;
}
