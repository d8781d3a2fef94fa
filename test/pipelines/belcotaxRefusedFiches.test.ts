import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { belcotax28118 } from '../../pipelines/belcotax28118.js';
import { buildReport } from '../../src/reconcile/report.js';
import { type CliOutcome, maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

// The review's finding F2: what SPF Finances holds of a year is what it accepted. A fiche refused
// by a blocking anomaly of the NOTI, in a sending accepted with anomalies, is not held: a rerun
// adds it again (f2028 2) and never cancels it; a modification refused leaves SPF with the fiche
// before it, which the next rerun still corrects or cancels.
const NOW = '2025-01-10T02:00:00+01:00';
const INSS = { D02: '78451823415', D05: '62022807018', D07: '75112006616' };

const field = (fiche: string, tag: string): string => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(fiche)![1]!;

describe('a Belcotax rerun holds only the fiches SPF Finances accepted', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let env: Record<string, string>;
  const m = (...args: string[]): Promise<CliOutcome> => maillon(args, env);
  const rerun = (...args: string[]): Promise<CliOutcome> => m('rerun', 'belcotax-281-18', '--period', '2024', '--reason', 'refused fiches', '--as-of', NOW, ...args);
  /** The fiches of the latest real file of the year: [f2010_referentie, f2028_typetraitement, the line]. */
  const latestFiches = async (): Promise<[string, string, string][]> => {
    const { rows } = await fx.db.pool.query(`SELECT f.path FROM maillon.files f JOIN maillon.runs r USING (run_id) WHERE r.flow = 'belcotax-281-18' AND NOT r.dry_run ORDER BY f.run_id DESC LIMIT 1`);
    const lines = (await fs.readFile(rows[0].path, 'utf8')).split('\n').filter((l) => l.startsWith('<Fiche28118>'));
    return lines.map((l) => [field(l, 'f2010_referentie'), field(l, 'f2028_typetraitement'), l]);
  };
  /** Sends what waits, the receiver refuses the fiches of `inss` (blocking anomaly B0042), and maillon reads its replies. */
  const deliverRefusing = async (...inss: string[]): Promise<void> => {
    const send = await m('send', '--no-acks');
    expect(send.code, send.stderr).toBe(0);
    const pass = await m('simulate-receiver', '--root', sshd.root, '--reject-inss', inss.join(','));
    expect(pass.code, pass.stderr).toBe(0);
    const acks = await m('acks');
    expect(acks.code, acks.stderr).toBe(0);
  };
  const states = async (): Promise<string[]> => (await fx.db.pool.query(`SELECT state FROM maillon.submissions WHERE flow = 'belcotax-281-18' ORDER BY submission_id`)).rows.map((r) => r.state);

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture(undefined, NOW);
    const home = path.dirname(fx.outbox);
    env = {
      DATABASE_URL: fx.db.url,
      MAILLON_HOME: home,
      MAILLON_OUTBOX: fx.outbox,
      MAILLON_SENDER: '012345',
      MAILLON_ENV: 'T',
      MAILLON_LOG_LEVEL: 'warn',
      MAILLON_NOW: NOW,
      MAILLON_RECEIVERS: await writeReceiversFile(sshd, path.join(home, 'receivers.json')),
    };
    // The year is sent with D02, D05 and D07; SPF refuses D02's and D05's fiches.
    await fx.db.pool.query("UPDATE dossier.allowances SET paid_on = '2024-06-20' WHERE allowance_id = 'L05-B'");
    const run = await m('run', 'belcotax-281-18', '--period', '2024');
    expect(run.code, run.stderr).toBe(0);
    expect((await latestFiches()).map(([ref]) => ref)).toEqual(['D02', 'D05', 'D07']);
    await deliverRefusing(INSS.D02, INSS.D05);
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('a fiche refused by a blocking anomaly is added again (2), and one refused and gone since is not cancelled', async () => {
    expect(await states()).toEqual(['accepted_with_anomalies']);
    // D05's allowance turns out paid in 2025: D05 leaves the year, but SPF never held its fiche.
    await fx.db.pool.query("UPDATE dossier.allowances SET paid_on = '2025-01-04' WHERE allowance_id = 'L05-B'");
    const dry = await rerun('--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/new\s+1\s+in the new file, not in the one held\s+D02$/m);
    expect(dry.stdout).toMatch(/unchanged\s+1\s/);
    expect(dry.stdout).toMatch(/vanished\s+0\s/);
    const sent = await rerun('--yes');
    expect(sent.code, sent.stderr).toBe(0);
    expect((await latestFiches()).map(([ref, status]) => [ref, status])).toEqual([
      ['D02', '2'], // refused: an addition, not a modification
      ['D07', '1'], // accepted: a modification (the whole year is sent again)
    ]);
    const report = await buildReport(fx.db.pool, belcotax28118, '2024', 'T', new Date(NOW));
    expect(report.versions.at(-1)!.counts).toMatchObject({ emitted: 2, cancelled: 0, unchanged: 0 });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('a modification refused leaves SPF with the fiche before it: the next rerun cancels that fiche (3), as it was accepted', async () => {
    // The correction is delivered; SPF accepts D02's addition and refuses D07's modification.
    await deliverRefusing(INSS.D07);
    expect(await states()).toEqual(['accepted_with_anomalies', 'accepted_with_anomalies']);
    const { rows } = await fx.db.pool.query(`SELECT f.path FROM maillon.files f JOIN maillon.runs r USING (run_id) WHERE r.flow = 'belcotax-281-18' AND NOT r.dry_run ORDER BY f.run_id LIMIT 1`);
    const original = (await fs.readFile(rows[0].path, 'utf8')).split('\n').find((l) => l.includes('<f2010_referentie>D07<'))!;
    // D07 leaves the year: SPF still holds its first fiche, which must be cancelled.
    await fx.db.pool.query("UPDATE dossier.allowances SET paid_on = '2025-01-03' WHERE allowance_id = 'L07-B'");
    const sent = await rerun('--yes');
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/vanished\s+1\s+held, sent in the new file as cancellations\s+D07$/m);
    const fiches = await latestFiches();
    expect(fiches.map(([ref, status]) => [ref, status])).toEqual([
      ['D02', '1'], // accepted as an addition last time: now a modification
      ['D07', '3'],
    ]);
    const unnumbered = (l: string): string => l.replace(/<f2009_volgnummer>\d+</, '<').replace(/<f2028_typetraitement>\d</, '<');
    expect(unnumbered(fiches[1]![2])).toBe(unnumbered(original));
  });
});
