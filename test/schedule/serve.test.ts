import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parseLocalDate } from '../../src/period/localDate.js';
import { parsePeriod } from '../../src/period/period.js';
import { renderedDom } from '../helpers/browser.js';
import { maillon, spawnMaillon } from '../helpers/cli.js';
import { scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

describe('maillon serve: schedules, catch-up and several instances', () => {
  let sshd: TestSshd;
  let db: TestDatabase;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;

  /** GO files received by the partner, per (purpose, environment): what was really delivered. */
  const received = async (): Promise<string[]> => (await fs.readdir(path.join(sshd.root, 'IN'))).filter((n) => n.startsWith('GO.')).sort();

  beforeAll(async () => {
    sshd = await requireTestSshd();
    db = await createTestDatabase();
    home = await scratchDir('serve');
    const data = path.join(home.dir, 'data');
    // Incapacity requests in the week up to 2026-10-08, the day the first serve below answers.
    await generateDataset({ affiliates: 300, seed: 9, out: data, invalidRate: 0.02, lastQuarter: parsePeriod('2026-Q3'), lastRequestDay: parseLocalDate('2026-10-08') });
    await importFolder(db.pool, data);
    const receivers = await writeReceiversFile(sshd, path.join(home.dir, 'receivers.json'));
    env = { DATABASE_URL: db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_RECEIVERS: receivers, MAILLON_LOG_LEVEL: 'warn' };
  });
  afterAll(async () => {
    await sshd?.stop();
    await db?.drop();
    await home?.remove();
  });

  it('two instances driven to the same due instant deliver the period exactly once (counted on the SFTP server)', async () => {
    const at10 = { ...env, MAILLON_NOW: '2026-10-10T02:00:30+02:00', MAILLON_CATCHUP_DAYS: '1' };
    const two = await Promise.all([maillon(['serve', '--once'], at10), maillon(['serve', '--once'], at10)]);
    for (const r of two) expect(r.stderr).not.toContain('maillon:');
    expect(two.map((r) => r.code)).toEqual([0, 0]);
    // The sequence of the day is shared: the INCA files written first (due earlier) took the first numbers.
    const others = (await received()).filter((n) => n.startsWith('GO.') && !n.startsWith('GO.INCA.'));
    expect(others).toHaveLength(1);
    expect(others[0]).toMatch(/^GO\.CARR\.012345\.20261010\.\d{5}\.T\.1$/);
    // The daily flow fired at 06:00 the day before, for 2026-10-08: one file per asking insurer, each delivered once.
    const inca = (await db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions WHERE flow = 'incapacity-attestations' AND period = '2026-10-08'`)).rows[0].n;
    expect(inca).toBeGreaterThan(0);
    expect((await received()).filter((n) => n.startsWith('GO.INCA.'))).toHaveLength(inca);
  });

  // Thirty days of the daily flow are caught up too: a longer timeout than the other tests.
  it('catches up the three periods missed while it was stopped, oldest first, once each', async () => {
    const later = { ...env, MAILLON_NOW: '2026-11-06T09:00:00+01:00', MAILLON_CATCHUP_DAYS: '30' };
    const first = await maillon(['serve', '--once'], later);
    expect(first.code).toBe(0);
    const runs = await db.pool.query(`SELECT flow, period FROM maillon.runs WHERE NOT dry_run ORDER BY run_id`);
    expect(runs.rows.filter((r) => r.flow !== 'incapacity-attestations').map((r) => `${r.flow} ${r.period}`)).toEqual([
      'career 2026-Q3',
      'contribution-slips 2026-Q3',
      'statistics 2026-Q3',
      'allowance-certificates 2026-10',
    ]);
    // Every day of the 30 days caught up, 2026-10-07 to 2026-11-05, once (2026-10-08 by the first serve above), oldest first.
    const days = runs.rows.filter((r) => r.flow === 'incapacity-attestations').map((r) => r.period as string);
    expect(days).toHaveLength(30);
    expect(days[0]).toBe('2026-10-08');
    expect(days.slice(1)).toEqual([...days.slice(1)].sort());
    expect(new Set(days)).toEqual(new Set(Array.from({ length: 30 }, (_, i) => new Date(Date.UTC(2026, 9, 7 + i)).toISOString().slice(0, 10))));
    const again = await maillon(['serve', '--once'], later);
    expect(again.code).toBe(0);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM maillon.runs WHERE NOT dry_run`)).rows[0].n).toBe(4 + 30);
    const gos = await received();
    expect(gos.filter((n) => n.startsWith('GO.CARR.'))).toHaveLength(1);
    expect(gos.filter((n) => n.startsWith('GO.STAT.'))).toHaveLength(1);
    const slips = (await db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions WHERE flow = 'contribution-slips'`)).rows[0].n;
    expect(gos.filter((n) => n.startsWith('GO.BONC.'))).toHaveLength(slips);
  }, 180_000);

  it('three instances driven to the same due instant deliver it exactly once', async () => {
    const at = { ...env, MAILLON_NOW: '2026-12-05T02:00:30+01:00', MAILLON_CATCHUP_DAYS: '1' };
    const three = await Promise.all([maillon(['serve', '--once'], at), maillon(['serve', '--once'], at), maillon(['serve', '--once'], at)]);
    expect(three.map((r) => r.code)).toEqual([0, 0, 0]);
    const runs = await db.pool.query(`SELECT count(*)::int AS n FROM maillon.runs WHERE flow = 'allowance-certificates' AND period = '2026-11'`);
    expect(runs.rows[0].n).toBe(1);
    const subs = (await db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions s JOIN maillon.runs r USING (run_id) WHERE r.period = '2026-11'`)).rows[0].n;
    expect((await received()).filter((n) => n.startsWith('GO.ALLC.') && n.includes('.20261205.'))).toHaveLength(subs);
  });

  it('serves a status page (checked in headless Chromium) that agrees with maillon status --json, then stops on SIGTERM', async () => {
    const at = { ...env, MAILLON_NOW: '2026-11-06T09:00:00+01:00', MAILLON_CATCHUP_DAYS: '30', MAILLON_STATUS_PORT: '0' };
    const status = JSON.parse((await maillon(['status', '--json', '--days', '60'], at)).stdout) as { periods: { flow: string; period: string; state: string }[] };
    expect(status.periods.find((p) => p.flow === 'career')).toMatchObject({ period: '2026-Q3', state: 'sent' });
    const serve = spawnMaillon(['serve'], at);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      serve.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /status page (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]!);
      });
      serve.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    try {
      expect(await (await fetch(`${url}healthz`)).json()).toMatchObject({ ok: true, database: { ok: true }, outbox: { ok: true }, lastTick: { ok: true } });
      const metrics = await (await fetch(`${url}metrics`)).text();
      expect(metrics).toMatch(/maillon_runs\{flow="career",state="succeeded"\} 1/);
      expect(metrics).toMatch(/maillon_bytes_sent \d+/);
      expect((await fetch(url, { method: 'POST' })).status).toBe(405);
      // A period the flow cannot have is refused before the ledger is read, naming the forms (it was a 404 "no successful run").
      const badPeriod = await fetch(`${url}report/career/2026-Q9`);
      expect(badPeriod.status).toBe(400);
      expect(await badPeriod.text()).toContain('"2026-Q9" is not a period key: use 2026-Q3 (quarter)');
      const wrongKind = await fetch(`${url}report/career/2026-07`);
      expect([wrongKind.status, await wrongKind.text()]).toEqual([400, 'The flow career runs per quarter; "2026-07" is a month.']);
      const dom = await renderedDom(url, path.join(home.dir, 'chromium'));
      for (const p of status.periods.filter((x) => x.state !== 'planned' || x.period >= '2026')) {
        const row = new RegExp(`<tr data-flow="${p.flow}" data-period="${p.period}">.*?<td class="state [a-z_]+">([a-z_]+)`).exec(dom);
        expect(row?.[1], `${p.flow} ${p.period}`).toBe(p.state);
      }
    } finally {
      serve.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) => serve.on('exit', (c) => resolve(c)));
    expect(code).toBe(143);
  });

  it('SIGTERM twice during an upload (as timeout and docker stop send): the step finishes, no partial file is left, and the period is delivered exactly once', async () => {
    const at = { ...env, MAILLON_NOW: '2027-01-10T02:00:30+01:00', MAILLON_CATCHUP_DAYS: '1', MAILLON_STATUS_PORT: '0', MAILLON_PAUSE_AT: 'after-upload', MAILLON_LOG_LEVEL: 'info' };
    const serve = spawnMaillon(['serve'], at);
    const exited = new Promise<number | null>((resolve) => serve.on('exit', (c) => resolve(c)));
    const inDir = path.join(sshd.root, 'IN');
    // Wait (bounded) until the data file sits under its temporary name on the server.
    let part: string | undefined;
    for (let i = 0; i < 400 && !part; i++) {
      part = (await fs.readdir(inDir)).find((n) => n.startsWith('.FI.CARR.') && n.endsWith('.part'));
      if (!part) await new Promise((r) => setTimeout(r, 50));
    }
    expect(part).toBeDefined();
    // A second signal once the stop has begun must not kill the process in the middle of the step.
    const stopping = new Promise<void>((resolve) => serve.stderr!.on('data', (c: Buffer) => c.toString().includes('stopping: the job in progress finishes') && resolve()));
    serve.kill('SIGTERM');
    await stopping;
    serve.kill('SIGTERM');
    expect(await exited).toBe(143);
    const after = await fs.readdir(inDir);
    expect(after.filter((n) => n.endsWith('.part'))).toEqual([]);
    const again = await maillon(['serve', '--once'], { ...at, MAILLON_PAUSE_AT: '' });
    expect(again.code).toBe(0);
    const q4 = (await fs.readdir(inDir)).filter((n) => n.startsWith('GO.CARR.') && n.includes('.20270110.'));
    expect(q4).toHaveLength(1);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM maillon.runs WHERE flow = 'career' AND period = '2026-Q4'`)).rows[0].n).toBe(1);
  }, 180_000);
});
