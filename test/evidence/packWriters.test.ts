import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { packFolder, writeEvidencePack } from '../../src/evidence/evidencePack.js';
import { exportEvidence } from '../../src/evidence/exportEvidence.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { cancelUnsent, submissionsOf } from '../helpers/ledger.js';
import { ROOT } from '../helpers/runHarness.js';

const clock = fixedClock('2026-10-11T06:00:00+02:00');
const HOUR = 60 * 60 * 1000;

describe('writers of one evidence pack at once, and what killed writers leave behind', () => {
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

  /** A temporary pack folder as a writer killed after making it read-only leaves it, last changed `ago` ms before the clock's now. */
  async function leftover(dir: string, name: string, ago: number): Promise<string> {
    const tmp = path.join(dir, name);
    await fs.mkdir(path.join(tmp, 'sent'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'sent', 'FI.CARR.copy'), 'the bytes sent', { mode: 0o400 });
    for (const d of [path.join(tmp, 'sent'), tmp]) {
      await fs.chmod(d, 0o500);
      const at = new Date(clock.now().getTime() - ago);
      await fs.utimes(d, at, at);
    }
    return tmp;
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

  it("removes a killed writer's temporary folder of the same submission, read-only, once it is an hour old; keeps a younger one and other submissions'", async () => {
    const { submissionId, folder } = await finalSubmission();
    const dir = path.dirname(folder);
    await fs.mkdir(dir, { recursive: true });
    await leftover(dir, `.submission-${submissionId}-aB3dEf`, 2 * HOUR);
    const young = await leftover(dir, `.submission-${submissionId}-yOuNg1`, 0);
    const other = await leftover(dir, `.submission-${submissionId + 100}-oThEr1`, 2 * HOUR);
    expect(await writeEvidencePack(fx.db.pool, evidence, submissionId, clock)).toBe(folder);
    expect((await fs.readdir(dir)).sort()).toEqual([path.basename(other), path.basename(young), path.basename(folder)].sort());
  });

  it("removes a killed export's temporary zip of the same name once it is an hour old, and no other file", async () => {
    const { period } = await finalSubmission();
    const out = path.join(path.dirname(fx.outbox), 'exports');
    await fs.mkdir(out, { recursive: true });
    const zip = path.join(out, `evidence-${period}.zip`);
    const at = (ago: number): Date => new Date(clock.now().getTime() - ago);
    const put = async (name: string, ago: number): Promise<void> => {
      await fs.writeFile(path.join(out, name), 'PK half a zip', { mode: 0o600 });
      await fs.utimes(path.join(out, name), at(ago), at(ago));
    };
    await put(`.evidence-${period}.zip.0a1b2c3d.tmp`, 2 * HOUR);
    await put(`.evidence-${period}.zip.4e5f6a7b.tmp`, 0);
    await put(`.other.zip.0a1b2c3d.tmp`, 2 * HOUR);
    await put(`evidence-${period}.zip.0a1b2c3d.tmp`, 2 * HOUR);
    expect(await exportEvidence(fx.db.pool, evidence, 'career', period, 'T', zip, clock)).toMatchObject({ packs: 1 });
    expect((await fs.readdir(out)).sort()).toEqual([`.evidence-${period}.zip.4e5f6a7b.tmp`, '.other.zip.0a1b2c3d.tmp', `evidence-${period}.zip`, `evidence-${period}.zip.0a1b2c3d.tmp`].sort());
  });
});
