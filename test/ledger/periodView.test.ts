import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { migrate } from '../../src/db/migrate.js';
import { derivePeriod, type PeriodFacts, type SubmissionFact } from '../../src/ledger/periodState.js';
import { readPeriodView } from '../../src/ledger/periodView.js';
import { buildReport } from '../../src/reconcile/report.js';
import { statusSnapshot } from '../../src/status/statusSnapshot.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { cancelUnsent, submissionsOf } from '../helpers/ledger.js';
import { ROOT } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const facts = (submissions: Partial<SubmissionFact>[], runs: PeriodFacts['runs'] = [], retry: PeriodFacts['retry'] = null): PeriodFacts => ({
  flow: 'career',
  period: '2026-Q3',
  environment: 'T',
  runs,
  retry,
  submissions: submissions.map((s, i) => ({ id: i + 1, runId: 1, receiver: 'INASTI', kind: 'original', state: 'written', goStarted: false, overdue: false, ...s })),
});
const ran = (id: number, state: 'running' | 'succeeded' | 'failed', hasSubmissions = true, alive = false) => ({
  id,
  state,
  alive,
  error: state === 'failed' ? 'disk full' : null,
  quarantined: 0,
  hasSubmissions,
});

describe('the receivers view of a period, derived from its facts', () => {
  it.each([
    ['never run', facts([]), 'to_do', 'planned'],
    ['a run alive', facts([], [ran(1, 'running', false, true)]), 'in_progress', 'running'],
    ['a run abandoned (its session gone)', facts([], [ran(1, 'running', false, false)]), 'to_do', 'failed'],
    ['written', facts([{ state: 'written' }], [ran(1, 'succeeded')]), 'in_progress', 'written'],
    ['accepted', facts([{ state: 'accepted' }], [ran(1, 'succeeded')]), 'delivered', 'accepted'],
    [
      'accepted, then a correction cancelled',
      facts([{ state: 'accepted' }, { state: 'cancelled', kind: 'correction', runId: 2 }], [ran(1, 'succeeded'), ran(2, 'succeeded')]),
      'delivered',
      'accepted',
    ],
    ['cancelled', facts([{ state: 'cancelled' }], [ran(1, 'succeeded')]), 'to_do', 'cancelled'],
    ['rejected', facts([{ state: 'rejected' }], [ran(1, 'succeeded')]), 'needs_attention', 'rejected'],
    [
      'accepted, then its correction rejected',
      facts([{ state: 'accepted' }, { state: 'rejected', kind: 'correction', runId: 2 }], [ran(1, 'succeeded'), ran(2, 'succeeded')]),
      'needs_attention',
      'accepted',
    ],
    ['one receiver cancelled, another holds it', facts([{ state: 'sent' }, { state: 'cancelled', receiver: 'OA100' }], [ran(1, 'succeeded')]), 'needs_attention', 'sent'],
    ['a duplicate original', facts([{ state: 'accepted' }, { state: 'written', kind: 'duplicate', runId: 2 }], [ran(1, 'succeeded'), ran(2, 'succeeded')]), 'needs_attention', 'written'],
    ['nothing to send', facts([], [ran(1, 'succeeded', false)]), 'delivered', 'nothing_to_send'],
    // Found by the model test (test/system/periodModel.test.ts): an identical rerun wrote nothing, then the original was cancelled.
    ['cancelled after a rerun that changed nothing', facts([{ state: 'cancelled' }], [ran(1, 'succeeded'), { ...ran(2, 'succeeded', false), correction: true }]), 'to_do', 'cancelled'],
    ['last run failed', facts([], [ran(1, 'failed', false)]), 'to_do', 'failed'],
    ['given up', facts([], [ran(1, 'failed', false)], { failures: 5, lastError: 'disk full', lastFailedAt: new Date(), nextAttemptAt: null, givenUpAt: new Date() }), 'given_up', 'given_up'],
  ])('%s', (_name, f, phase, state) => {
    const v = derivePeriod(f);
    expect([v.phase, v.state]).toEqual([phase, state]);
    // Only a period nobody holds and nobody is running may be written as originals.
    expect(v.open).toBe(v.live.length === 0 && !v.running && state !== 'nothing_to_send');
  });

  it('says when serve tries a failed period again', () => {
    const next = new Date('2026-10-10T00:02:00Z');
    const v = derivePeriod(facts([], [ran(1, 'failed', false)], { failures: 2, lastError: 'disk full', lastFailedAt: new Date(), nextAttemptAt: next, givenUpAt: null }));
    expect(v).toMatchObject({ phase: 'to_do', state: 'failed', open: true });
    expect(v.action).toBe('Run #1 failed (disk full). Fix the cause, then: maillon run career --period 2026-Q3 --env T (maillon serve tries again at 2026-10-10T00:02:00.000Z, after 2 failed runs).');
  });
});

/**
 * A ledger written before maillon refused a second `run` (main before issue 20): three runs of
 * the same period, the first accepted by the receiver, a later original still written.
 */
describe('status and report after a cancel of a duplicate (a ledger from before this version)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('DROP SCHEMA maillon CASCADE');
    await migrate(db.pool, 'ledger', 8);
    for (const [run, state] of [
      [1, 'accepted'],
      [2, 'written'],
    ] as const) {
      await db.pool.query(
        `INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, finished_at, extracted, emitted, quarantined, started_by, host, pid)
         VALUES ('career', '2026-Q3', 'T', '2026-10-10T00:00:00Z', false, 'succeeded', '2026-10-10T00:00:00Z', '2026-10-10T00:01:00Z', 1, 1, 0, 'op', 'old-host', 1)`,
      );
      await db.pool.query(
        `INSERT INTO maillon.submissions (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, state, created_at, go_started_at, sent_at)
         VALUES ($1, 'career', '2026-Q3', 'T', 'INASTI', '012345', 'CARR', '2026-10-10', $2, 1, $3, '2026-10-10T00:01:00Z', $4, $4)`,
        [run, `0000${run}`, state, state === 'accepted' ? '2026-10-10T01:00:00Z' : null],
      );
      await db.pool.query(
        `INSERT INTO maillon.files (submission_id, run_id, file_key, kind, name, part, receiver, path, records, bytes, sha256, created_at, ack_state, noti_state)
         VALUES ($1, $1, 'INASTI:1', 'FI', $2, 1, 'INASTI', '/outbox/x', 1, 10, repeat('0', 64), '2026-10-10T00:01:00Z', $3, $4)`,
        [run, `FI.CARR.012345.20261010.0000${run}.T.1.1`, state === 'accepted' ? 'received' : null, state === 'accepted' ? 'accepted' : null],
      );
      await db.pool.query(
        `INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, record_key, file_key, position, attestation_id, record_hash)
         VALUES ($1, 1, 'A001', 'emitted', null, 'INASTI:1', 1, 20263000000001, 'h')`,
        [run],
      );
    }
    await migrate(db.pool, 'ledger');
  });
  afterAll(async () => db?.drop());

  const careerStatus = async () => (await statusSnapshot(db.pool, [career], 'T', new Date('2026-10-12T00:00:00Z'), 30, 48)).periods.find((p) => p.period === '2026-Q3')!;

  it('the migration marks the second live original a duplicate; the period needs attention and says what to do', async () => {
    const kinds = await db.pool.query('SELECT submission_id, kind FROM maillon.submissions ORDER BY 1');
    expect(kinds.rows.map((r) => r.kind)).toEqual(['original', 'duplicate']);
    expect(await careerStatus()).toMatchObject({ phase: 'needs_attention', state: 'written', action: expect.stringContaining('#2 is a second original for INASTI') });
  });

  it('once the duplicate is cancelled: delivered and accepted, and the report shows the run the receiver accepted', async () => {
    await cancelUnsent(db.pool, 2);
    expect(await careerStatus()).toMatchObject({ phase: 'delivered', state: 'accepted', action: null, runId: 1 });
    const report = await buildReport(db.pool, career, '2026-Q3', 'T', new Date('2026-10-12T00:00:00Z'));
    expect(report.runId).toBe(1);
    expect(report.delivery.records).toMatchObject({ accepted: 1, pending: 0 });
    expect(report.receivers).toMatchObject({ phase: 'delivered', state: 'accepted' });
  });
});

describe('status and report after a cancelled correction', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
  });
  afterAll(async () => fx?.close());

  it('show what the receiver holds: the original, not the cancelled correction', async () => {
    const original = await fx.run(career, '2026-Q3');
    await fx.db.pool.query(`UPDATE dossier.payments SET amount_cents = amount_cents - 100 WHERE payment_id = 'P001'`);
    const { runPipeline } = await import('../../src/engine/runPipeline.js');
    const { runDeps } = await import('../helpers/runHarness.js');
    const { parsePeriod } = await import('../../src/period/period.js');
    const correction = await runPipeline(runDeps(fx.db.pool, fx.outbox, '2026-10-11T02:00:00+02:00'), {
      pipeline: career,
      period: parsePeriod('2026-Q3'),
      environment: 'T',
      sender: '012345',
      asOf: new Date('2026-10-10T02:00:00+02:00'),
      dryRun: false,
      correction: { reason: 'payment corrected', full: false },
    });
    expect(correction.counts.emitted).toBe(1);
    await cancelUnsent(fx.db.pool, correction.runId);
    const report = await buildReport(fx.db.pool, career, '2026-Q3', 'T', new Date('2026-10-12T00:00:00Z'));
    expect(report.runId).toBe(original.runId);
    expect(report.files.map((f) => f.name)).toEqual(original.files.map((f) => f.name));
    const view = await readPeriodView(fx.db.pool, 'T', 'career', '2026-Q3');
    expect(view).toMatchObject({ phase: 'in_progress', state: 'written', reportRunId: original.runId });
    expect((await submissionsOf(fx.db.pool, correction.runId)).length).toBe(1);
  });
});

/** Found by the model test: a rerun that changed nothing made a later cancelled period look delivered. */
describe('a period cancelled after a rerun that changed nothing', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
  });
  afterAll(async () => fx?.close());

  it('is to do again: status says so and run writes a new original', async () => {
    const { runPipeline } = await import('../../src/engine/runPipeline.js');
    const { runDeps } = await import('../helpers/runHarness.js');
    const { parsePeriod } = await import('../../src/period/period.js');
    const original = await fx.run(career, '2026-Q2');
    const rerun = await runPipeline(runDeps(fx.db.pool, fx.outbox, '2026-10-10T02:00:00+02:00'), {
      pipeline: career,
      period: parsePeriod('2026-Q2'),
      environment: 'T',
      sender: '012345',
      dryRun: false,
      correction: { reason: 'identical', full: false },
    });
    expect(await submissionsOf(fx.db.pool, rerun.runId)).toEqual([]);
    await cancelUnsent(fx.db.pool, original.runId);
    expect(await readPeriodView(fx.db.pool, 'T', 'career', '2026-Q2')).toMatchObject({ phase: 'to_do', state: 'cancelled', open: true });
    const again = await fx.run(career, '2026-Q2');
    expect((await submissionsOf(fx.db.pool, again.runId)).length).toBe(1);
  });
});
