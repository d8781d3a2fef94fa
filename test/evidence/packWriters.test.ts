import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { packFolder, writeEvidencePack } from '../../src/evidence/evidencePack.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { cancelUnsent, submissionsOf } from '../helpers/ledger.js';
import { ROOT } from '../helpers/runHarness.js';

const clock = fixedClock('2026-10-11T06:00:00+02:00');

describe('writers of one evidence pack at once', () => {
  let fx: FlowFixture;
  let evidence: string;
  const periods = ['2026-Q3', '2026-Q2', '2026-Q1'];

  /** A career submission cancelled before it was sent (a final state), its pack not written yet. */
  async function finalSubmission(): Promise<{ submissionId: number; period: string; folder: string }> {
    const period = periods.shift()!;
    const run = await fx.run(career, period);
    await cancelUnsent(fx.db.pool, run.runId, '2026-10-10T05:00:00+02:00');
    const [submissionId] = await submissionsOf(fx.db.pool, run.runId);
    return { submissionId: submissionId!, period, folder: packFolder(evidence, 'career', period, 'T', submissionId!) };
  }

  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    evidence = path.join(path.dirname(fx.outbox), 'evidence');
  });
  afterAll(async () => fx?.close());

  it('lets two writers of the same pack at once both end with the one pack: no failure, no temporary folder left, one anchor', async () => {
    const { submissionId, folder } = await finalSubmission();
    const results = await Promise.allSettled([0, 1, 2].map(() => writeEvidencePack(fx.db.pool, evidence, submissionId, clock)));
    expect(results).toEqual([0, 1, 2].map(() => ({ status: 'fulfilled', value: folder })));
    expect(await fs.readdir(path.dirname(folder))).toEqual([path.basename(folder)]);
    const anchors = await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.events WHERE submission_id = $1 AND kind = 'evidence_written'`, [submissionId]);
    expect(anchors.rows[0].n).toBe(1);
  });
});
