import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { planChanged } from '../../src/engine/rerunVersion.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { PlanChangedError } from '../../src/errors/errors.js';
import { parsePeriod } from '../../src/period/period.js';
import { applyTestNoti } from '../helpers/applyTestReply.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { runDeps } from '../helpers/runHarness.js';

const NOW = '2025-01-10T02:00:00+01:00';

// The review's finding 2: what a receiver holds also leaves out the records a blocking anomaly of a
// NOTI refused. A NOTI read while a rerun's plan waits for its confirmation leaves its submission
// live (accepted_with_anomalies), yet the plan was computed on records the receiver no longer holds.
describe('a blocking anomaly read while a rerun waits for its confirmation (contribution-slips 2024-Q1)', () => {
  let fx: FlowFixture;
  const request = { pipeline: contributionSlips, period: parsePeriod('2024-Q1'), environment: 'T' as const, sender: '012345', asOf: new Date(NOW) };
  const rerun = (reason: string, extra: { dryRun: boolean; confirmPlan?: Parameters<typeof runPipeline>[1]['confirmPlan'] }) =>
    runPipeline(runDeps(fx.db.pool, fx.outbox, NOW), { ...request, correction: { reason, full: false }, ...extra });
  const submissions = async () => (await fx.db.pool.query(`SELECT submission_id::int AS id, kind, state FROM maillon.submissions ORDER BY submission_id`)).rows;

  beforeAll(async () => {
    fx = await createFlowFixture();
  });
  afterAll(async () => fx?.close());

  it('refuses the rerun (exit 14) and writes nothing; the next rerun sends the refused record again', async () => {
    const original = await fx.run(contributionSlips, '2024-Q1');
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'sent', go_started_at = now(), sent_at = now()`);
    const d02 = (
      await fx.db.pool.query(
        `SELECT f.name, o.record_key AS inss, o.attestation_id::text AS id FROM maillon.record_outcomes o JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
          WHERE o.run_id = $1 AND o.source_key = 'D02' AND o.outcome = 'emitted'`,
        [original.runId],
      )
    ).rows[0] as { name: string; inss: string; id: string };
    await fx.db.pool.query(`UPDATE dossier.contributions SET amount_cents = 50001 WHERE contribution_id = 'K03-241'`);
    const before = await submissions();

    const refused = rerun('D03 corrected', {
      dryRun: false,
      confirmPlan: async (shown) => {
        expect(shown.plan).toMatchObject({ added: [], changed: ['D03'], vanished: [] });
        // maillon acks, while the plan is shown: the receiver refuses D02 and takes the rest of its file.
        await applyTestNoti(fx.db.pool, 'd02', new Date(NOW), d02.name, 'accepted_with_anomalies', [{ inss: d02.inss, attestationId: d02.id, blocking: true, code: '00001', description: 'refused' }]);
        return true;
      },
    });
    await expect(refused).rejects.toThrow(PlanChangedError);
    await expect(refused).rejects.toMatchObject({ exitCode: 14 });
    await expect(refused).rejects.toThrow(
      `What the receivers hold of contribution-slips 2024-Q1 (T) changed after this rerun was computed from ${before.map((s) => `#${s.id}`).join(', ')}: 1 blocking anomaly was read since`,
    );
    expect((await submissions()).map(({ id, kind }) => ({ id, kind }))).toEqual(before.map(({ id, kind }) => ({ id, kind })));
    expect((await submissions()).find((s) => s.state === 'accepted_with_anomalies')).toBeDefined();

    // Computed again, the plan sees what the receiver holds: D02 is no longer held, so it is sent again.
    const again = await rerun('D03 corrected', { dryRun: false, confirmPlan: () => Promise.resolve(true) });
    expect(again.dryRun).toBe(false);
    expect(again.plan).toMatchObject({ added: ['D02'], changed: ['D03'], vanished: [] });
  });

  it('a NOTI with no blocking anomaly read meanwhile leaves what is held as it was: the rerun is sent', async () => {
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'sent', go_started_at = now(), sent_at = now() WHERE state = 'written'`);
    const last = (await fx.db.pool.query(`SELECT f.name, f.submission_id::int AS id FROM maillon.files f WHERE f.kind = 'FI' ORDER BY f.file_id DESC LIMIT 1`)).rows[0] as { name: string; id: number };
    await fx.db.pool.query(`UPDATE dossier.contributions SET amount_cents = 87172 WHERE contribution_id = 'K04-241'`);
    const sent = await rerun('D04 corrected', {
      dryRun: false,
      confirmPlan: async () => {
        await applyTestNoti(fx.db.pool, 'last', new Date(NOW), last.name, 'accepted_with_anomalies', [{ inss: null, attestationId: null, blocking: false, code: '00002', description: 'noted' }]);
        return true;
      },
    });
    expect(sent.dryRun).toBe(false);
    expect(sent.plan).toMatchObject({ added: [], changed: ['D04'], vanished: [] });
    expect((await submissions()).find((s) => s.id === last.id)).toMatchObject({ state: 'accepted_with_anomalies' });
  });
});

describe('planChanged', () => {
  const plan = { previousRunId: 3, added: ['a', 'b'], changed: ['c'], vanished: ['d', 'e'], unchanged: 7, moved: ['e (101 → 205)'], kept: ['f'] };
  it('names every line of the new plan, moved and held included, and the command that shows it', () => {
    const err = planChanged({ pipeline: contributionSlips, environment: 'T' }, '2024-Q1', { quarantined: 2 }, plan);
    expect(err).toBeInstanceOf(PlanChangedError);
    expect(err.exitCode).toBe(14);
    expect(err.message).toContain('new 2, changed 1, vanished 2, unchanged 7, moved 1, quarantined 2 (held 1)');
    expect(err.message).toContain('maillon rerun contribution-slips --period 2024-Q1 --env T');
  });
  it('leaves out moved and held when the plan has none', () => {
    const err = planChanged({ pipeline: contributionSlips, environment: 'T' }, '2024-Q1', { quarantined: 0 }, { ...plan, moved: [], kept: [] });
    expect(err.message).toContain('vanished 2, unchanged 7, quarantined 0, which is not');
  });
});
