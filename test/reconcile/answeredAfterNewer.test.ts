import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { simulateReceiver } from '../../src/simulate/simulateReceiver.js';
import { createCareerCli, type CareerCli } from '../helpers/careerCli.js';
import { maillon } from '../helpers/cli.js';
import { submissionsOf } from '../helpers/ledger.js';

// The receiver took the GO just before the TD reached it, so the cancel was believed and the period
// was to do again: backfill (or serve) wrote a new original before the receiver's replies came.
// Those replies must still say the receiver may hold the cancelled one: only what is written once
// they are known is the operator's decision (docs/state-rules.md).
describe('a reply after a cancel that comes after a newer submission was written (real sshd, CLI)', () => {
  let cli: CareerCli;
  const period = '2026-Q3';
  const view = async (): Promise<{ phase: string; action: string | null; submissions: { id: number; state: string }[] }> => {
    const out = await maillon(['status', '--json'], cli.env);
    expect(out.code, out.stderr).toBe(0);
    return (JSON.parse(out.stdout) as { periods: { flow: string; period: string; phase: string; action: string | null; submissions: { id: number; state: string }[] }[] }).periods.find(
      (p) => p.flow === 'career' && p.period === period,
    )!;
  };

  beforeAll(async () => {
    cli = await createCareerCli();
  });
  afterAll(async () => cli?.close());

  it('the period needs attention, the report says the receiver may hold it; a run written once the answer is known clears it', async () => {
    const run = await cli.fx.run(career, period);
    const [old] = await submissionsOf(cli.fx.db.pool, run.runId);
    const stem = run.files[0]!.name.slice(3, -4);
    expect((await maillon(['send', '--no-acks', '--period', period], cli.env)).code).toBe(0);
    const cancel = await maillon(['cancel', String(old)], cli.env);
    expect(cancel.stdout).toContain('cancelled: TD file written');
    // The receiver had taken the GO before the TD arrived: the TD lies unread, the submission is processed.
    await fs.mkdir(path.join(cli.sshd.root, 'IN', '.late'), { recursive: true });
    await fs.rename(path.join(cli.sshd.root, 'IN', `TD.${stem}.1`), path.join(cli.sshd.root, 'IN', '.late', `TD.${stem}.1`));
    const backfill = await maillon(['backfill', 'career', '--from', period, '--to', period], cli.env);
    expect(backfill.code, backfill.stderr).toBe(0);
    const newer = (await view()).submissions.at(-1)!.id;
    expect(newer).toBeGreaterThan(old!);
    const pass = await simulateReceiver({ root: cli.sshd.root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock: fixedClock('2026-10-10T05:00:00+02:00') });
    expect(pass.submissions).toEqual([`GO.${stem}.1`]);
    expect((await maillon(['acks'], cli.env)).code).toBe(12);

    // The newer original was written before the answer: it decides nothing.
    const attention = await view();
    expect(attention.phase).toBe('needs_attention');
    expect(attention.action).toContain(`INASTI may hold #${old}: it answered after the cancel`);
    const report = await maillon(['report', 'career', '--period', period, '--json'], cli.env);
    const r = JSON.parse(report.stdout) as { accountedFor: boolean; receivers: { holds: { files: { name: string; mayHold?: boolean }[] }[] } };
    expect(r.receivers.holds[0]!.files.map((f) => `${f.name}${f.mayHold ? ' may hold' : ''}`)).toEqual([`FI.${stem}.1.1 may hold`, expect.stringMatching(/^FI\./)]);
    expect(r.accountedFor).toBe(false);
    const rerun = await maillon(['rerun', 'career', '--period', period, '--reason', 'check', '--yes'], cli.env);
    expect(rerun.code).toBe(8);
    expect(rerun.stderr).toContain(`--receiver-holds-nothing ${old}`);

    // Withdrawn, and the period written again on the operator's word (a run once the answer is known): cleared.
    expect((await maillon(['cancel', String(newer)], cli.env)).code).toBe(0);
    expect((await view()).phase).toBe('needs_attention');
    const again = await maillon(['run', 'career', '--period', period], cli.env);
    expect(again.code, again.stderr).toBe(0);
    expect(await view()).toMatchObject({ phase: 'in_progress', action: null });
    // Fifteen commands, each a process start: slow on a busy machine.
  }, 240_000);
});
