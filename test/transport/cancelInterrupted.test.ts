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

/**
 * `cancel` and `send` killed (SIGKILL, MAILLON_CRASH_AT) between writing a TD or a GO on the
 * server and recording it in the ledger, then run again, against a real OpenSSH server: the
 * ledger never says the receiver holds what it dropped, and no GO is written twice.
 */
// Each case starts up to a dozen maillon processes: slow on a busy machine.
describe('a cancel or send killed between the server and the ledger, then run again', { timeout: 180_000 }, () => {
  let cli: CareerCli;
  const clock = fixedClock('2026-10-10T03:00:00+02:00');
  const inDir = (): string => path.join(cli.sshd.root, 'IN');
  const inbox = async (stem: string): Promise<string[]> => (await fs.readdir(inDir())).filter((n) => n.includes(stem)).sort();
  const row = async (id: number): Promise<{ state: string; td_started: boolean }> =>
    (await cli.fx.db.pool.query('SELECT state, td_started_at IS NOT NULL AS td_started FROM maillon.submissions WHERE submission_id = $1', [id])).rows[0];
  /** The submission's state events, in order (the evidence packs' anchors, `evidence_written`, are left out: test/evidence covers them). */
  const events = async (id: number): Promise<string[]> =>
    (await cli.fx.db.pool.query(`SELECT kind FROM maillon.events WHERE submission_id = $1 AND kind <> 'evidence_written' ORDER BY event_id`, [id])).rows.map((r) => r.kind);
  /** The receiver takes what is complete in IN; returns what it processed of the submission (its GO), not what it dropped (TD). */
  const receiver = async (stem: string): Promise<string[]> =>
    (await simulateReceiver({ root: cli.sshd.root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock })).submissions.filter((n) => n.includes(stem));
  const statusOf = async (period: string): Promise<{ phase: string; action: string | null }> => {
    const out = await maillon(['status', '--json'], cli.env);
    expect(out.code, out.stderr).toBe(0);
    return (JSON.parse(out.stdout) as { periods: { flow: string; period: string; phase: string; action: string | null }[] }).periods.find((p) => p.flow === 'career' && p.period === period)!;
  };
  /** Runs the period and returns its submission and the stem of its files' names. */
  const written = async (period: string): Promise<{ id: number; stem: string }> => {
    const run = await cli.fx.run(career, period);
    const [id] = await submissionsOf(cli.fx.db.pool, run.runId);
    return { id: id!, stem: run.files[0]!.name.slice(3, -4) };
  };
  const send = (period: string, ...more: string[]) => maillon(['send', '--no-acks', '--period', period, ...more], cli.env);
  const sendKilledAt = async (period: string, step: string): Promise<void> => {
    const crashed = await maillon(['send', '--no-acks', '--period', period], { ...cli.env, MAILLON_CRASH_AT: step });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
  };
  const cancelKilledAt = async (id: number, step: string): Promise<void> => {
    const crashed = await maillon(['cancel', String(id)], { ...cli.env, MAILLON_CRASH_AT: step });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
  };

  beforeAll(async () => {
    cli = await createCareerCli();
  });
  afterAll(async () => cli?.close());

  it('cancel killed after writing the TD: status says to complete it; the receiver honours the TD; cancel again completes it and the period is to do again', async () => {
    const period = '2026-Q3';
    const { id, stem } = await written(period);
    expect((await send(period)).code).toBe(0);
    await cancelKilledAt(id, 'after-td');
    expect(await inbox(stem)).toEqual([`FI.${stem}.1.1`, `GO.${stem}.1`, `TD.${stem}.1`]);
    expect(await row(id)).toEqual({ state: 'sent', td_started: true });
    // In between, the ledger does not say the receiver simply holds it.
    const between = await statusOf(period);
    expect(between.phase).toBe('needs_attention');
    expect(between.action).toContain(`The cancel of #${id} (to INASTI) was interrupted after it started writing its TD file`);
    expect(between.action).toContain(`maillon cancel ${id}`);
    // A rerun would correct what the receiver may be dropping: refused until the cancel is complete.
    const rerun = await maillon(['rerun', 'career', '--period', period, '--reason', 'check', '--yes'], cli.env);
    expect(rerun.code, rerun.stderr).toBe(8);
    expect(rerun.stderr).toContain(`Complete the cancel first: maillon cancel ${id}`);
    // The receiver sees the TD beside the GO: it takes everything away and answers nothing.
    expect(await receiver(stem)).toEqual([]);
    expect(await inbox(stem)).toEqual([]);
    const again = await maillon(['cancel', String(id)], cli.env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`submission #${id} cancelled: an interrupted cancel had started its TD file, and the receiver has taken the GO since`);
    expect(await row(id)).toEqual({ state: 'cancelled', td_started: true });
    expect(await events(id)).toEqual(['written', 'sent', 'cancelled']);
    expect(await statusOf(period)).toMatchObject({ phase: 'to_do' });
    const run = await maillon(['run', 'career', '--period', period], cli.env);
    expect(run.code, run.stderr).toBe(0);
  });

  it('send killed after its GO, then cancel killed after its TD: send neither sends it nor records it sent; cancel again finds the TD and completes', async () => {
    const period = '2026-Q2';
    const { id, stem } = await written(period);
    await sendKilledAt(period, 'after-go');
    await cancelKilledAt(id, 'after-td');
    expect(await inbox(stem)).toEqual([`FI.${stem}.1.1`, `GO.${stem}.1`, `TD.${stem}.1`]);
    const sent = await send(period, '--json');
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout)).toEqual([expect.objectContaining({ submissionId: id, result: 'cancel-started', reason: expect.stringContaining(`maillon cancel ${id} completes the cancel`) })]);
    expect(await row(id)).toEqual({ state: 'written', td_started: true });
    expect(await inbox(stem)).toEqual([`FI.${stem}.1.1`, `GO.${stem}.1`, `TD.${stem}.1`]);
    const again = await maillon(['cancel', String(id)], cli.env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`submission #${id} cancelled: TD file written`);
    expect(await row(id)).toEqual({ state: 'cancelled', td_started: true });
    expect(await events(id)).toEqual(['written', 'cancelled']);
    expect(await receiver(stem)).toEqual([]);
  });

  it('cancel killed before writing its TD; the receiver takes the GO and answers: cancel again records the cancel, the replies make the period need attention', async () => {
    const period = '2026-Q1';
    const { id, stem } = await written(period);
    expect((await send(period)).code).toBe(0);
    await cancelKilledAt(id, 'before-td');
    expect(await inbox(stem)).toEqual([`FI.${stem}.1.1`, `GO.${stem}.1`]);
    expect(await row(id)).toEqual({ state: 'sent', td_started: true });
    expect(await receiver(stem)).toEqual([`GO.${stem}.1`]);
    const again = await maillon(['cancel', String(id)], cli.env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('the receiver has taken the GO since');
    expect(await row(id)).toEqual({ state: 'cancelled', td_started: true });
    // Its replies are conflicts (cancelled is final: exit 12, not believed) that say the receiver may hold it.
    expect((await maillon(['acks'], cli.env)).code).toBe(12);
    expect(await events(id)).toEqual(['written', 'sent', 'cancelled', 'answered_after_cancel']);
    const view = await statusOf(period);
    expect(view.phase).toBe('needs_attention');
    expect(view.action).toContain(`The receiver answered #${id} after it was cancelled`);
  });

  it('send killed after its GO, the receiver took the GO but not yet the data file: the next send records it sent, no second GO', async () => {
    const period = '2025-Q4';
    const { id, stem } = await written(period);
    await sendKilledAt(period, 'after-go');
    await fs.mkdir(path.join(inDir(), '.taken'), { recursive: true });
    await fs.rename(path.join(inDir(), `GO.${stem}.1`), path.join(inDir(), '.taken', `GO.${stem}.1`));
    const again = await send(period, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual([expect.objectContaining({ submissionId: id, result: 'sent' })]);
    expect(await inbox(stem)).toEqual([`FI.${stem}.1.1`]);
    expect(await row(id)).toMatchObject({ state: 'sent' });
    const attempt = await cli.fx.db.pool.query(`SELECT detail->>'go' AS go FROM maillon.transfer_attempts WHERE submission_id = $1 AND outcome = 'sent'`, [id]);
    expect(attempt.rows).toEqual([{ go: 'consumed' }]);
  });

  it('send killed after its GO, the receiver took the GO but not yet the data file: cancel is refused (exit 8), no TD, the period not to do', async () => {
    const period = '2025-Q3';
    const { id, stem } = await written(period);
    await sendKilledAt(period, 'after-go');
    await fs.mkdir(path.join(inDir(), '.taken'), { recursive: true });
    await fs.rename(path.join(inDir(), `GO.${stem}.1`), path.join(inDir(), '.taken', `GO.${stem}.1`));
    const cancel = await maillon(['cancel', String(id)], cli.env);
    expect(cancel.code, cancel.stderr).toBe(8);
    expect(cancel.stderr).toContain(`The receiver has already taken GO.${stem}.1 from its IN folder: submission #${id} cannot be cancelled any more.`);
    expect(await inbox(stem)).toEqual([`FI.${stem}.1.1`]);
    expect(await row(id)).toEqual({ state: 'written', td_started: false });
    expect((await statusOf(period)).phase).not.toBe('to_do');
  });

  it('send killed before renaming its GO: cancel writes the TD and removes the GO never renamed', async () => {
    const period = '2025-Q2';
    const { id, stem } = await written(period);
    await sendKilledAt(period, 'before-go-rename');
    expect((await fs.readdir(inDir())).filter((n) => n.includes(stem)).sort()).toEqual([`.GO.${stem}.1.part`, `FI.${stem}.1.1`]);
    const cancel = await maillon(['cancel', String(id)], cli.env);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`submission #${id} cancelled: TD file written`);
    expect((await fs.readdir(inDir())).filter((n) => n.includes(stem)).sort()).toEqual([`FI.${stem}.1.1`, `TD.${stem}.1`]);
    expect(await row(id)).toMatchObject({ state: 'cancelled' });
  });

  it('a GO started by a maillon before ledger migration 150 and not on the server (it may never have been written): cancel writes the TD while every data file waits', async () => {
    const period = '2025-Q1';
    const { id, stem } = await written(period);
    await sendKilledAt(period, 'after-go');
    // An earlier maillon recorded the GO before writing it, and was killed in between: no GO, no temporary file.
    await fs.rm(path.join(inDir(), `GO.${stem}.1`));
    await cli.fx.db.pool.query('UPDATE maillon.submissions SET go_maybe_unwritten = true WHERE submission_id = $1', [id]);
    const cancel = await maillon(['cancel', String(id)], cli.env);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`submission #${id} cancelled: TD file written`);
    expect(await inbox(stem)).toEqual([`FI.${stem}.1.1`, `TD.${stem}.1`]);
  });
});
