import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maillon } from '../helpers/cli.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { isProcessAlive } from '../../src/system/processAlive.js';

async function postmasterPid(home: string): Promise<number | null> {
  const text = await fs.readFile(path.join(home, 'pg/data/postmaster.pid'), 'utf8').catch(() => null);
  return text ? Number(text.split('\n')[0]) : null;
}

/** Starts the embedded server in a child process, then kills that process with SIGKILL. */
async function orphanAServer(home: string): Promise<void> {
  const script = `import('${path.join(ROOT, 'src/db/embeddedPostgres.ts')}').then((m) => m.startEmbeddedPostgres(${JSON.stringify(home)})).then(() => console.log('ready'));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
}

describe('the embedded default (no DATABASE_URL)', () => {
  let home: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    home = await scratchDir('embedded');
  });
  afterAll(async () => home.remove());

  // The demo generates, imports, runs seven flows, delivers and reads the replies: a longer timeout.
  it('runs the demo end to end and stops its PostgreSQL on exit', async () => {
    const out = await maillon(['demo', '--affiliates', '150'], { MAILLON_HOME: home.dir });
    expect(out.stderr).not.toContain('maillon:');
    expect(out.code).toBe(0);
    for (const flow of ['career', 'contribution-slips', 'tax-attestations', 'belcotax-281-18', 'allowance-certificates', 'statistics', 'incapacity-attestations']) {
      expect(out.stdout).toMatch(new RegExp(`^${flow}\\s+\\S+(\\s+\\d+){5}\\s+ok\\s+\\S+\\.html$`, 'm'));
    }
    expect(out.stdout).toMatch(/^sent \d+ submission\(s\) over SFTP/m);
    // The refusal the simulated receivers make on purpose is explained on screen.
    expect(out.stdout).toMatch(/^rejected: on purpose, the simulated receivers refuse the records of one affiliate .*: career\b/m);
    // Started in the checkout, the hint is what works there.
    expect(out.stdout).toContain('or: npx maillon report <flow> --period <key>');
    const outbox = path.join(home.dir, 'outbox');
    expect((await fs.readdir(outbox)).filter((n) => n.startsWith('FI.CARR.012345.'))).toHaveLength(1);
    const pid = await postmasterPid(home.dir);
    expect(pid === null || !isProcessAlive(pid)).toBe(true);
  }, 180_000);

  it('stops a server left running by a killed maillon process, and starts again', async () => {
    await orphanAServer(home.dir);
    const orphan = await postmasterPid(home.dir);
    expect(orphan).not.toBeNull();
    expect(isProcessAlive(orphan!)).toBe(true);
    const out = await maillon(['runs'], { MAILLON_HOME: home.dir });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/career/);
    expect(isProcessAlive(orphan!)).toBe(false);
    expect(existsSync(path.join(home.dir, 'pg/owner.json'))).toBe(false);
  });
});
