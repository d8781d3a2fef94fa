import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { createLogger } from '../../src/log/logger.js';
import type { LocalDate } from '../../src/period/localDate.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { type SendDeps, sendSubmissions } from '../../src/transport/sendSubmissions.js';
import type { UploadStep } from '../../src/transport/uploadSubmission.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

/** A send stopped at `at` (what SIGKILL does there): the ledger keeps what it recorded before. */
const killedAt =
  (at: UploadStep) =>
  (step: UploadStep): void => {
    if (step === at) throw new Error(`stopped at ${at} (test)`);
  };

/** Every period closed on 30 September 2026: the sends below run on 10 October. */
const closedOn = (): LocalDate => '2026-09-30' as LocalDate;

describe('sending a submission whose period closed after its GO was started (real OpenSSH sshd)', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let file: string;

  const deps = (): SendDeps => ({
    ledger: fx.db.pool,
    clock: fixedClock('2026-10-10T03:00:00+02:00'),
    logger: createLogger('silent'),
    endpoints: loadEndpoints(file),
    passphrase: () => undefined,
    backoffMs: 10,
  });
  const inbox = async (sequence: string): Promise<string[]> => (await fs.readdir(path.join(sshd.root, 'IN'))).filter((n) => n.includes(`.${sequence}.`)).sort();
  const ledgerOf = async (runId: number): Promise<{ state: string; sent_events: number; attempts: (string | null)[] }> =>
    (
      await fx.db.pool.query(
        `SELECT s.state,
                (SELECT count(*) FROM maillon.events e WHERE e.submission_id = s.submission_id AND e.kind = 'sent')::int AS sent_events,
                (SELECT array_agg(a.outcome || ':' || coalesce(a.detail->>'go', '') ORDER BY a.attempt_id) FROM maillon.transfer_attempts a WHERE a.submission_id = s.submission_id) AS attempts
         FROM maillon.submissions s WHERE s.run_id = $1`,
        [runId],
      )
    ).rows[0];

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    file = await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers.json'));
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('records as sent, with its sent event, a submission whose GO the receiver took before the period closed', async () => {
    const run = await fx.run(career, '2026-Q1');
    const sequence = run.files[0]!.sequence;
    // Killed right after the GO's rename: the ledger says written, with the GO started.
    const [cut] = await sendSubmissions({ ...deps(), onStep: killedAt('after-go') });
    expect(cut!.result).toBe('failed');
    expect(await inbox(sequence)).toEqual([`FI.CARR.012345.20261010.${sequence}.T.1.1`, `GO.CARR.012345.20261010.${sequence}.T.1`]);
    // The receiver takes the GO and the data file.
    for (const n of await inbox(sequence)) await fs.rm(path.join(sshd.root, 'IN', n));
    const [out] = await sendSubmissions({ ...deps(), closedOn });
    expect(out).toMatchObject({ result: 'sent', go: `GO.CARR.012345.20261010.${sequence}.T.1` });
    expect(await ledgerOf(run.runId)).toEqual({ state: 'sent', sent_events: 1, attempts: ['failed:', 'sent:consumed'] });
    // Nothing was written again.
    expect(await inbox(sequence)).toEqual([]);
  });

  it('records as sent a submission whose GO still waits on the server', async () => {
    const run = await fx.run(career, '2025-Q4');
    await sendSubmissions({ ...deps(), onStep: killedAt('after-go') });
    const [out] = await sendSubmissions({ ...deps(), closedOn });
    expect(out!.result).toBe('sent');
    expect(await ledgerOf(run.runId)).toEqual({ state: 'sent', sent_events: 1, attempts: ['failed:', 'sent:already-there'] });
  });

  it('leaves a GO that never got past its temporary name as it is, and says closed', async () => {
    const run = await fx.run(career, '2025-Q3');
    const sequence = run.files[0]!.sequence;
    // Killed after the GO was staged and recorded as started, before its rename.
    await sendSubmissions({ ...deps(), onStep: killedAt('before-go-rename') });
    const staged = await inbox(sequence);
    expect(staged).toEqual([`.GO.CARR.012345.20261010.${sequence}.T.1.part`, `FI.CARR.012345.20261010.${sequence}.T.1.1`]);
    const [out] = await sendSubmissions({ ...deps(), closedOn });
    expect(out).toMatchObject({
      result: 'closed',
      reason: expect.stringContaining('is closed: its receiver accepts no file for it after 2026-09-30, so it was not sent. Withdraw it: maillon cancel'),
    });
    expect(await inbox(sequence)).toEqual(staged);
    expect((await ledgerOf(run.runId)).state).toBe('written');
  });
});
