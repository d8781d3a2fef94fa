import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incapacityAttestations } from '../../pipelines/incapacityAttestations.js';
import { statistics } from '../../pipelines/statistics.js';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import { importFolder } from '../../src/import/importFolder.js';
import { maillon, pausedAfterPlan } from '../helpers/cli.js';
import { createFlowFixture, DOSSIER_2024, type FlowFixture, importEdited } from '../helpers/flowFixture.js';

const NOW = '2025-01-10T02:00:00+01:00';

/** The dossier of 2024 without D06; with `more`, also a payment added to D01 and D03's name corrected. */
async function changedDossier(dir: string, more: boolean): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  for (const f of await fs.readdir(DOSSIER_2024)) {
    let text = (await fs.readFile(path.join(DOSSIER_2024, f), 'utf8'))
      .split('\n')
      .filter((l) => !/^(D06,|[^,]*,D06,)/.test(l))
      .join('\n');
    if (more && f === 'affiliates.csv') text = text.replace('D03,03051212332,Peeters,', 'D03,03051212332,Peeters-Janssens,');
    if (more && f === 'payments.csv') text = text.replace(/\n*$/, '\nQ01-9,D01,K01-242,payment,1000,2024-07-01,\n');
    await fs.writeFile(path.join(dir, f), text);
  }
  return dir;
}

/** The line of a run's or a plan's counts. */
const countsOf = (stdout: string): string => /^ {2}(extracted .*)$/m.exec(stdout)?.[1] ?? `no counts line in:\n${stdout}`;

function cliEnv(fx: FlowFixture): Record<string, string> {
  return { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox), MAILLON_OUTBOX: fx.outbox, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_NOW: NOW };
}

describe('rerun output tells what is sent (tax-attestations 2024)', () => {
  let fx: FlowFixture;
  const rerun = (...args: string[]) => maillon(['rerun', 'tax-attestations', '--period', '2024', '--reason', 'payment found late', '--as-of', NOW, ...args], cliEnv(fx));

  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(taxAttestations, '2024');
    await importFolder(fx.db.pool, await changedDossier(path.join(path.dirname(fx.outbox), 'changed'), true));
  });
  afterAll(async () => fx?.close());

  it('the plan and the summary use the rerun invariant, not extracted = emitted + quarantined', async () => {
    const dry = await rerun('--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(countsOf(dry.stdout)).toBe('extracted 5 + cancelled 1 = emitted 3 + quarantined 1 + unchanged 2');
    const sent = await rerun('--yes');
    expect(sent.code, sent.stderr).toBe(0);
    expect(countsOf(sent.stdout)).toBe('extracted 5 + cancelled 1 = emitted 3 + quarantined 1 + unchanged 2');
    expect(sent.stdout).not.toMatch(/extracted 5 = emitted 3 \+ quarantined 1/);
  });

  it('--full --dry-run shows the unchanged records sent again, as --full then does', async () => {
    const dry = await rerun('--full', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/unchanged\s+4 {2}sent again as replacements \(--full\)/);
    expect(dry.stdout).not.toMatch(/unchanged\s+\d+ {2}not sent/);
    const full = await rerun('--full', '--yes');
    expect(full.code, full.stderr).toBe(0);
    expect(countsOf(full.stdout)).toBe(countsOf(dry.stdout));
    expect(countsOf(full.stdout)).toBe('extracted 5 + cancelled 0 = emitted 4 + quarantined 1 + unchanged 0');
  });
});

describe('rerun output of a flow replaced whole (statistics 2024-Q1)', () => {
  let fx: FlowFixture;
  const rerun = (...args: string[]) => maillon(['rerun', 'statistics', '--period', '2024-Q1', '--reason', 'affiliate removed', '--as-of', NOW, ...args], cliEnv(fx));

  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(statistics, '2024-Q1');
    await importFolder(fx.db.pool, await changedDossier(path.join(path.dirname(fx.outbox), 'without-d06'), false));
  });
  afterAll(async () => fx?.close());

  it('the plan of a whole-file flow speaks of the whole file replaced, and its counts are those of the run', async () => {
    const dry = await rerun('--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('the whole file is replaced');
    expect(dry.stdout).not.toMatch(/sent as (originals|replacements|cancellations)/);
    const sent = await rerun('--yes');
    expect(sent.code, sent.stderr).toBe(0);
    expect(countsOf(sent.stdout)).toBe(countsOf(dry.stdout));
    const inFiles = [...sent.stdout.matchAll(/file \S+ \((\d+) records/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(inFiles).toBeGreaterThan(0);
    expect(countsOf(dry.stdout)).toContain(`emitted ${inFiles} `);
  });
});

describe('a rerun sends the plan that was shown', () => {
  let fx: FlowFixture;
  const args = ['rerun', 'tax-attestations', '--period', '2024', '--reason', 'affiliate left', '--as-of', NOW, '--yes'];
  const submissions = async (): Promise<number> => (await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions`)).rows[0].n;

  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(taxAttestations, '2024');
    await importFolder(fx.db.pool, await changedDossier(path.join(path.dirname(fx.outbox), 'without-d06'), false));
  });
  afterAll(async () => fx?.close());

  it('refuses with exit 14 when the dossier changed between the plan and the confirmation, and writes nothing', async () => {
    // The rerun pauses after its plan (MAILLON_PAUSE_AT=after-plan): the dossier changes then.
    const paused = pausedAfterPlan(args, cliEnv(fx));
    expect(await paused.planShown).toMatch(/changed\s+0 /);
    await importFolder(fx.db.pool, await changedDossier(path.join(path.dirname(fx.outbox), 'changed'), true));
    const { code, stdout, stderr } = await paused.ended;
    expect(code, stdout).toBe(14);
    expect(stderr).toContain('The dossier changed after the plan of this rerun was shown: tax-attestations 2024 (T) now gives new 0, changed 2, vanished 1');
    expect(await submissions()).toBe(1);
    const again = await maillon(args, cliEnv(fx));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/changed\s+2 /);
    expect(await submissions()).toBe(2);
  });
});

describe('a rerun computes its plan once and holds it until it is confirmed', () => {
  let fx: FlowFixture;
  const yes = ['rerun', 'tax-attestations', '--period', '2024', '--reason', 'affiliate left', '--as-of', NOW, '--yes'];
  const submissions = async (): Promise<number> => (await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions`)).rows[0].n;
  /** The rerun's runs, in order: the original run is left out. */
  const reruns = async (): Promise<{ dry_run: boolean; state: string }[]> => (await fx.db.pool.query(`SELECT dry_run, state FROM maillon.runs WHERE kind <> 'original' ORDER BY run_id`)).rows;

  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(taxAttestations, '2024');
    await importFolder(fx.db.pool, await changedDossier(path.join(path.dirname(fx.outbox), 'without-d06'), false));
  });
  afterAll(async () => fx?.close());

  it('without --yes and without a terminal: the plan is shown, then exit 2; the run is recorded as a dry run and nothing is written', async () => {
    const r = await maillon(yes.slice(0, -1), cliEnv(fx));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/vanished\s+1 /);
    expect(r.stderr).toContain('Confirm the correction with --yes');
    expect(await reruns()).toEqual([{ dry_run: true, state: 'succeeded' }]);
    expect(await submissions()).toBe(1);
  });

  it('with --yes: one run shows the plan and sends it, with no second extraction', async () => {
    const r = await maillon(yes, cliEnv(fx));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('computing it again');
    expect((await reruns()).slice(1)).toEqual([{ dry_run: false, state: 'succeeded' }]);
    expect(await submissions()).toBe(2);
  });

  it('a dossier imported again while the plan is shown, giving the same plan: computed again, then sent', async () => {
    const more = await changedDossier(path.join(path.dirname(fx.outbox), 'more'), true);
    await importFolder(fx.db.pool, more);
    const paused = pausedAfterPlan(yes, cliEnv(fx));
    expect(await paused.planShown).toMatch(/changed\s+2 /);
    await importFolder(fx.db.pool, more);
    const { code, stdout } = await paused.ended;
    expect(code, stdout).toBe(0);
    expect(stdout).toContain('the dossier changed since this plan was computed: computing it again');
    expect((await reruns()).slice(2)).toEqual([
      { dry_run: true, state: 'succeeded' },
      { dry_run: false, state: 'succeeded' },
    ]);
    expect(await submissions()).toBe(3);
  });
});

describe('a cancel while a rerun of the period shows its plan', () => {
  let fx: FlowFixture;
  const yes = ['rerun', 'tax-attestations', '--period', '2024', '--reason', 'affiliate left', '--as-of', NOW, '--yes'];

  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(taxAttestations, '2024');
    await importFolder(fx.db.pool, await changedDossier(path.join(path.dirname(fx.outbox), 'without-d06'), false));
  });
  afterAll(async () => fx?.close());

  it('is refused (exit 8): the rerun corrects the version it planned against, which stays live', async () => {
    const original = Number((await fx.db.pool.query(`SELECT submission_id FROM maillon.submissions`)).rows[0].submission_id);
    const paused = pausedAfterPlan(yes, cliEnv(fx));
    expect(await paused.planShown).toMatch(/vanished\s+1 /);
    const cancel = await maillon(['cancel', String(original)], cliEnv(fx));
    expect(cancel.code, cancel.stdout).toBe(8);
    expect(cancel.stderr).toContain(
      `tax-attestations 2024 (T) is being run or rerun by another maillon process right now (a rerun may be waiting for its plan to be confirmed); submission #${original} was not cancelled.`,
    );
    const { code, stdout } = await paused.ended;
    expect(code, stdout).toBe(0);
    const states = (await fx.db.pool.query(`SELECT kind, state FROM maillon.submissions ORDER BY submission_id`)).rows;
    expect(states).toEqual([
      { kind: 'original', state: 'written' },
      { kind: 'correction', state: 'written' },
    ]);
  });
});

describe('rerun output when a record goes to another receiver (incapacity-attestations 2024-04-15)', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(incapacityAttestations, '2024-04-15');
    await importEdited(fx, 'moved', { 'incapacity_requests.csv': (text) => text.replace(/^100-24-0007,D01,100,/m, '100-24-0007,D01,200,') });
  });
  afterAll(async () => fx?.close());

  it('the plan counts it new and vanished, and says where it moved', async () => {
    const dry = await maillon(['rerun', 'incapacity-attestations', '--period', '2024-04-15', '--reason', 'insurer corrected', '--as-of', NOW, '--dry-run'], cliEnv(fx));
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/new\s+1 {2}sent as originals\s+100-24-0007\n/);
    expect(dry.stdout).toMatch(/vanished\s+1 {2}sent as cancellations\s+100-24-0007\n/);
    expect(dry.stdout).toMatch(/moved\s+1 {2}to another receiver: in vanished \(and new\)\s+100-24-0007 \(OA100 → OA200\)\n/);
    expect(countsOf(dry.stdout)).toBe('extracted 6 + cancelled 1 = emitted 2 + quarantined 2 + unchanged 3');
  });
});
