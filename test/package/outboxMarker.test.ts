import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maillon } from '../helpers/cli.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/**
 * Instances on several machines share the ledger and must share the outbox: a file written by one
 * is read back by whichever delivers it. Two serves on separate outboxes each tried to send the
 * other's files and logged ENOENT …/outbox/… as errors; now the second refuses to start.
 */
describe('serve on an outbox that is not the shared one', () => {
  let sshd: TestSshd;
  let db: TestDatabase;
  let tmp: { dir: string; remove: () => Promise<void> };
  let base: Record<string, string>;
  const outboxA = (): string => path.join(tmp.dir, 'shared', 'outbox');
  // Nothing is due at this instant (mid-month, a catch-up window of one day): serve only delivers.
  const QUIET = { MAILLON_NOW: '2026-10-20T12:00:00+02:00', MAILLON_CATCHUP_DAYS: '1' };

  beforeAll(async () => {
    sshd = await requireTestSshd();
    db = await createTestDatabase();
    tmp = await scratchDir('outbox-marker');
    base = { DATABASE_URL: db.url, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_LOG_LEVEL: 'info' };
    const a = { ...base, MAILLON_HOME: path.join(tmp.dir, 'a'), MAILLON_OUTBOX: outboxA() };
    expect((await maillon(['import', path.join(ROOT, 'fixtures/career/input')], a)).code).toBe(0);
    // Instance A serves first (no receivers: it delivers nothing), which marks its outbox; then it writes a run.
    const first = await maillon(['serve', '--once'], { ...a, ...QUIET });
    expect(first.code, first.stderr).toBe(0);
    const run = await maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-10-10T02:00:00+02:00'], a);
    expect(run.code, run.stderr).toBe(0);
    base['MAILLON_RECEIVERS'] = await writeReceiversFile(sshd, path.join(tmp.dir, 'receivers.json'));
  });
  afterAll(async () => {
    await sshd?.stop();
    await db?.drop();
    await tmp?.remove();
  });

  it("refuses to start on another outbox, says why in a sentence (exit 7), and logs no error for the other instance's files", async () => {
    const b = await maillon(['serve', '--once'], { ...base, ...QUIET, MAILLON_HOME: path.join(tmp.dir, 'b') });
    expect(b.code).toBe(7);
    expect(b.stderr).toContain(`maillon: The outbox ${path.join(tmp.dir, 'b', 'outbox')} is not the one the ledger knows: it has no .maillon-outbox file.`);
    expect(b.stderr).toContain('Every instance of maillon must share one outbox');
    expect(b.stderr).not.toContain('ENOENT');
    expect(b.stderr).not.toMatch(/"level":50/);
    expect((await fs.readdir(path.join(sshd.root, 'IN'))).filter((n) => n.startsWith('GO.'))).toEqual([]);
  });

  it("another instance on the shared outbox starts and delivers the first one's run", async () => {
    const c = await maillon(['serve', '--once'], { ...base, ...QUIET, MAILLON_HOME: path.join(tmp.dir, 'c'), MAILLON_OUTBOX: outboxA() });
    expect(c.stderr).not.toContain('maillon:');
    expect(c.code).toBe(0);
    expect((await fs.readdir(path.join(sshd.root, 'IN'))).filter((n) => n.startsWith('GO.CARR.'))).toHaveLength(1);
  });

  it('keeps the marker 0600 in the outbox and its id in the ledger; a marker naming another outbox is refused', async () => {
    const file = path.join(outboxA(), '.maillon-outbox');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const id = (await fs.readFile(file, 'utf8')).trim();
    expect((await db.pool.query('SELECT marker FROM maillon.outbox_marker')).rows).toEqual([{ marker: id }]);
    const d = path.join(tmp.dir, 'd', 'outbox');
    await fs.mkdir(d, { recursive: true });
    await fs.writeFile(path.join(d, '.maillon-outbox'), '00000000-0000-4000-8000-000000000000\n');
    const out = await maillon(['serve', '--once'], { ...base, ...QUIET, MAILLON_HOME: path.join(tmp.dir, 'd'), MAILLON_OUTBOX: d });
    expect(out.code).toBe(7);
    expect(out.stderr).toContain(`its .maillon-outbox file names another outbox (00000000-0000-4000-8000-000000000000, the ledger's is ${id})`);
  });
});
