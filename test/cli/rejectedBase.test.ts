import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestReplies } from '../../src/ack/ingestReplies.js';
import { fixedClock } from '../../src/clock/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { maillon, pausedAfterPlan } from '../helpers/cli.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

// The review's item 1: a rerun's correction is written on top of the original, then the receiver
// rejects the original. The correction corrects records the receiver never accepted: it must not
// be sent, and nothing may say the period is delivered or every record accounted for.
describe('a correction built on an original the receiver rejected', () => {
  let sshd: TestSshd;
  let db: TestDatabase;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  const m = (...args: string[]) => maillon(args, env);
  const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
  const fiOf = async (id: number): Promise<string> => (await q(`SELECT name FROM maillon.files WHERE submission_id = $1 AND kind = 'FI'`, [id]))[0].name;
  const submissions = async (period: string) =>
    (await q(`SELECT submission_id::int AS id, kind, state FROM maillon.submissions WHERE period = $1 ORDER BY submission_id`, [period])) as { id: number; kind: string; state: string }[];
  const periodOf = async (period: string) =>
    (JSON.parse((await m('status', '--json')).stdout) as { periods: { flow: string; period: string; phase: string; action: string | null }[] }).periods.find(
      (p) => p.flow === 'career' && p.period === period,
    )!;
  const reportOf = async (period: string) => JSON.parse((await m('report', 'career', '--period', period, '--json')).stdout) as Record<string, unknown>;
  const addContribution = (id: string, quarter: string, due: string) => q(`INSERT INTO dossier.contributions VALUES ($1, 'A001', $2, 'provisional', 1700888, 87171, $3)`, [id, quarter, due]);
  /** The receiver answers what waits in IN (a negative ACRF for the files named), then maillon reads the replies. */
  const receiverAnswers = async (...rejected: string[]) => {
    const pass = await m('simulate-receiver', '--root', sshd.root, ...(rejected.length > 0 ? ['--reject-file', rejected.join(',')] : []));
    expect(pass.code, pass.stderr).toBe(0);
    const acks = await m('acks');
    expect(acks.code, acks.stderr).toBe(0);
  };

  beforeAll(async () => {
    sshd = await requireTestSshd();
    db = await createTestDatabase();
    home = await scratchDir('rejected-base');
    const receivers = await writeReceiversFile(sshd, path.join(home.dir, 'receivers.json'));
    env = {
      DATABASE_URL: db.url,
      MAILLON_HOME: home.dir,
      MAILLON_SENDER: '012345',
      MAILLON_ENV: 'T',
      MAILLON_LOG_LEVEL: 'warn',
      MAILLON_RECEIVERS: receivers,
      MAILLON_NOW: '2026-10-10T02:00:00+02:00',
    };
    expect((await m('import', path.join(ROOT, 'fixtures/career/input'))).code).toBe(0);
  });
  afterAll(async () => {
    await sshd?.stop();
    await db?.drop();
    await home?.remove();
  });

  it('send holds the correction back (rejected-base, exit 8); status needs attention and says what to do; rerun is refused; the report is not accounted for', async () => {
    expect((await m('run', 'career', '--period', '2025-Q3')).code).toBe(0);
    expect((await m('send', '--no-acks', '--period', '2025-Q3')).code).toBe(0);
    await addContribution('C901', '2025-Q3', '2025-09-30');
    const rerun = await m('rerun', 'career', '--period', '2025-Q3', '--reason', 'contribution found late', '--yes');
    expect(rerun.code, rerun.stderr).toBe(0);
    const [original, correction] = await submissions('2025-Q3');
    expect([original, correction]).toEqual([
      { id: original!.id, kind: 'original', state: 'sent' },
      { id: correction!.id, kind: 'correction', state: 'written' },
    ]);
    await receiverAnswers(await fiOf(original!.id));
    expect((await submissions('2025-Q3')).map((s) => s.state)).toEqual(['rejected', 'written']);

    const send = await m('send', '--no-acks', '--period', '2025-Q3', '--json');
    expect(send.code, send.stderr).toBe(8);
    expect(JSON.parse(send.stdout)).toEqual([
      expect.objectContaining({
        submissionId: correction!.id,
        result: 'rejected-base',
        reason: expect.stringContaining(`it builds on #${original!.id}, which INASTI rejected after #${correction!.id} was written`),
      }),
    ]);
    expect((await submissions('2025-Q3')).map((s) => s.state)).toEqual(['rejected', 'written']);
    const gos = (await fs.readdir(path.join(sshd.root, 'IN'))).filter((n) => n.startsWith('GO.') && n.includes(`.${String(correction!.id).padStart(5, '0')}.`));
    expect(gos).toEqual([]);

    const status = await periodOf('2025-Q3');
    expect(status.phase).toBe('needs_attention');
    expect(status.action).toContain(`#${correction!.id} (correction, written) builds on #${original!.id}, which INASTI rejected after #${correction!.id} was written`);
    expect(status.action).toContain(`maillon cancel ${correction!.id}; then (the data corrected, if the rejection asks for it) maillon run career --period 2025-Q3 --env T`);

    const again = await m('rerun', 'career', '--period', '2025-Q3', '--reason', 'again', '--yes', '--full');
    expect(again.code, again.stderr).toBe(8);
    expect(again.stderr).toContain(`maillon cancel ${correction!.id}`);
    expect((await submissions('2025-Q3')).length).toBe(2);

    const report = await reportOf('2025-Q3');
    expect(report).toMatchObject({ accountedFor: false, builtOnRejected: [{ submissionId: correction!.id, kind: 'correction', receiver: 'INASTI', rejected: [original!.id] }] });
    expect(report['unaccounted']).toContain(`#${correction!.id} (correction to INASTI, written) builds on #${original!.id}, which it rejected`);
    const text = (await m('report', 'career', '--period', '2025-Q3')).stdout;
    expect(text).not.toContain('every record is accounted for\n');
    expect(text).toContain('not every record is accounted for: ');
  });

  it('following the advice delivers the period: cancel the correction, run the period again, send; the receiver holds every record', async () => {
    const [original, correction] = await submissions('2025-Q3');
    expect((await m('cancel', String(correction!.id))).code).toBe(0);
    expect((await periodOf('2025-Q3')).phase).toBe('needs_attention');
    const run = await m('run', 'career', '--period', '2025-Q3');
    expect(run.code, run.stderr).toBe(0);
    const send = await m('send', '--no-acks', '--period', '2025-Q3', '--json');
    expect(send.code, send.stderr).toBe(0);
    const [again] = (await submissions('2025-Q3')).slice(2);
    expect(JSON.parse(send.stdout)).toEqual([expect.objectContaining({ submissionId: again!.id, result: 'sent' })]);
    await receiverAnswers();
    expect(await submissions('2025-Q3')).toEqual([
      { id: original!.id, kind: 'original', state: 'rejected' },
      { id: correction!.id, kind: 'correction', state: 'cancelled' },
      { id: again!.id, kind: 'original', state: 'accepted' },
    ]);
    expect(await periodOf('2025-Q3')).toMatchObject({ phase: 'delivered', action: null });
    const report = await reportOf('2025-Q3');
    const extracted = (report['counts'] as { emitted: number }).emitted;
    expect(report).toMatchObject({ accountedFor: true, builtOnRejected: [], receivers: { holds: [{ receiver: 'INASTI', files: [{ kind: 'original', state: 'accepted', records: extracted }] }] } });
    expect((await m('report', 'career', '--period', '2025-Q3')).stdout).toContain('every record is accounted for\n');
    expect((await m('verify-ledger')).code).toBe(0);
  });

  it('a correction sent before the rejection came: status says to withdraw it or send every record again; rerun --full delivers the period', async () => {
    expect((await m('run', 'career', '--period', '2025-Q1')).code).toBe(0);
    expect((await m('send', '--no-acks', '--period', '2025-Q1')).code).toBe(0);
    await addContribution('C903', '2025-Q1', '2025-03-31');
    expect((await m('rerun', 'career', '--period', '2025-Q1', '--reason', 'late', '--yes')).code).toBe(0);
    expect((await m('send', '--no-acks', '--period', '2025-Q1')).code).toBe(0);
    const [original, correction] = await submissions('2025-Q1');
    // The receiver rejects the original and accepts the correction.
    await receiverAnswers(await fiOf(original!.id));
    expect((await submissions('2025-Q1')).map((s) => s.state)).toEqual(['rejected', 'accepted']);
    const status = await periodOf('2025-Q1');
    expect(status.phase).toBe('needs_attention');
    expect(status.action).toContain(`#${correction!.id} (correction, accepted) builds on #${original!.id}, which INASTI rejected`);
    expect(status.action).toContain('maillon rerun career --period 2025-Q1 --env T --reason "…" --full sends every record of the period again');
    expect((await reportOf('2025-Q1'))['accountedFor']).toBe(false);

    const full = await m('rerun', 'career', '--period', '2025-Q1', '--reason', 'the original was rejected', '--full', '--yes');
    expect(full.code, full.stderr).toBe(0);
    expect((await m('send', '--no-acks', '--period', '2025-Q1')).code).toBe(0);
    await receiverAnswers();
    const after = await submissions('2025-Q1');
    expect(after.map((s) => s.state)).toEqual(['rejected', 'accepted', 'accepted']);
    expect(await periodOf('2025-Q1')).toMatchObject({ phase: 'delivered', action: null });
    const report = await reportOf('2025-Q1');
    expect(report).toMatchObject({ accountedFor: true, builtOnRejected: [] });
    // Every record of the period is in the full replacement the receiver accepted.
    const holds = (report['receivers'] as { holds: { files: { records: number; state: string }[] }[] }).holds[0]!.files;
    expect(holds.at(-1)).toMatchObject({ state: 'accepted', records: (report['counts'] as { emitted: number }).emitted });
  });

  it('a rejection read while a rerun waits for its confirmation: the rerun is refused (exit 14) and writes nothing', async () => {
    expect((await m('run', 'career', '--period', '2025-Q2')).code).toBe(0);
    expect((await m('send', '--no-acks', '--period', '2025-Q2')).code).toBe(0);
    await addContribution('C902', '2025-Q2', '2025-06-30');
    const [original] = await submissions('2025-Q2');
    // The receiver's negative ACRF waits in OUTTEST; it is read while the rerun's plan waits (3 s), by acks' own code in this process.
    expect((await m('simulate-receiver', '--root', sshd.root, '--reject-file', await fiOf(original!.id))).code).toBe(0);
    const paused = pausedAfterPlan(['rerun', 'career', '--period', '2025-Q2', '--reason', 'late', '--yes'], env);
    expect(await paused.planShown).toMatch(/changed\s+1 /);
    const read = await ingestReplies(
      {
        ledger: db.pool,
        clock: fixedClock(env['MAILLON_NOW']!),
        logger: createLogger('silent'),
        endpoints: loadEndpoints(env['MAILLON_RECEIVERS']!),
        passphrase: () => undefined,
        repliesDir: path.join(home.dir, 'replies'),
        maxReplyBytes: 1_000_000,
      },
      'T',
    );
    expect(read.map((r) => r.result)).toContain('processed');
    expect((await submissions('2025-Q2')).map((s) => s.state)).toEqual(['rejected']);
    const { code, stdout, stderr } = await paused.ended;
    expect(code, stdout + stderr).toBe(14);
    expect(stderr).toContain(`What the receivers hold of career 2025-Q2 (T) changed after this rerun was computed from #${original!.id}: #${original!.id} is rejected. Nothing was written`);
    expect(await submissions('2025-Q2')).toEqual([{ id: original!.id, kind: 'original', state: 'rejected' }]);
    expect(await periodOf('2025-Q2')).toMatchObject({ phase: 'needs_attention' });
    expect((await m('run', 'career', '--period', '2025-Q2')).code).toBe(0);
  });
});
