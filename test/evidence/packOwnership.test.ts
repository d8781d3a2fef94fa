import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { EvidenceMismatchError, MaillonError } from '../../src/errors/errors.js';
import { writeEvidencePack } from '../../src/evidence/evidencePack.js';
import { exportEvidence } from '../../src/evidence/exportEvidence.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { cancelUnsent, submissionsOf } from '../helpers/ledger.js';
import { ROOT } from '../helpers/runHarness.js';

const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
const clock = fixedClock('2026-10-11T06:00:00+02:00');

describe('a pack found on disk is checked against the ledger before anything is written beside it', () => {
  let fx: FlowFixture;
  let evidence: string;
  // Each submission is of its own period (a period its receiver holds is never run twice).
  const periods = ['2026-Q3', '2026-Q2', '2026-Q1'];

  /** A career submission cancelled before it was sent, with one reply recorded about its file, and its pack. */
  async function finalPack(): Promise<{ submissionId: number; period: string; pack: string; outbox: string }> {
    const period = periods.shift()!;
    const run = await fx.run(career, period);
    await cancelUnsent(fx.db.pool, run.runId, '2026-10-10T05:00:00+02:00');
    const [submissionId] = await submissionsOf(fx.db.pool, run.runId);
    const body = path.join(path.dirname(fx.outbox), `reply-${submissionId}.xml`);
    await fs.writeFile(body, '<ACRF/>\n');
    await fx.db.pool.query(
      `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, reason, kind, file_name)
       VALUES ('test', $1, now(), 8, $2, $3, 'conflict', 'A reply about a cancelled submission.', 'ACRF', $4)`,
      [`FO.ACRF.999999.20261011.7777${submissionId}.T`, sha('<ACRF/>\n'), body, run.files[0]!.name],
    );
    const pack = (await writeEvidencePack(fx.db.pool, evidence, submissionId!, clock))!;
    await fs.chmod(pack, 0o700);
    return { submissionId: submissionId!, period, pack, outbox: run.files[0]!.path };
  }

  const anchors = async (submissionId: number): Promise<string[]> =>
    (await fx.db.pool.query(`SELECT detail->>'pack' AS pack FROM maillon.events WHERE submission_id = $1 AND kind = 'evidence_written' ORDER BY event_id`, [submissionId])).rows.map(
      (r) => r.pack as string,
    );

  /** Runs `change` on a file of the pack, exports, and puts the file back; returns what the export threw. */
  async function exportChanged(period: string, file: string, change: (file: string) => Promise<void>): Promise<unknown> {
    const saved = await fs.readFile(file);
    await fs.chmod(file, 0o600);
    await change(file);
    try {
      return await exportEvidence(fx.db.pool, evidence, 'career', period, 'T', path.join(path.dirname(fx.outbox), `changed-${period}.zip`), clock).catch((e: unknown) => e);
    } finally {
      await fs.writeFile(file, saved);
      await fs.chmod(file, 0o400);
    }
  }

  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    evidence = path.join(path.dirname(fx.outbox), 'evidence');
  });
  afterAll(async () => fx?.close());

  it('refuses an anchored pack whose transcript.json is missing, garbled or edited (exit 13), and never moves it aside nor rewrites it', async () => {
    const { submissionId, period, pack } = await finalPack();
    const manifest = await fs.readFile(path.join(pack, 'manifest.json'), 'utf8');
    const transcript = path.join(pack, 'transcript.json');
    const changes: Record<string, (f: string) => Promise<void>> = {
      deleted: (f) => fs.rm(f),
      garbled: (f) => fs.writeFile(f, '{"submission": '),
      edited: async (f) => {
        const t = JSON.parse(await fs.readFile(f, 'utf8'));
        t.submission.created_at = '2020-01-01T00:00:00.000Z';
        t.attempts = [];
        await fs.writeFile(f, JSON.stringify(t));
      },
    };
    for (const [what, change] of Object.entries(changes)) {
      const err = await exportChanged(period, transcript, change);
      expect(err, what).toBeInstanceOf(EvidenceMismatchError);
      expect(err, what).toMatchObject({ pack, file: 'transcript.json', exitCode: 13 });
      expect((err as Error).message, what).toContain(`The evidence pack ${pack} does not match`);
      expect(existsSync(path.join(evidence, '.orphans')), what).toBe(false);
      expect(await fs.readFile(path.join(pack, 'manifest.json'), 'utf8'), what).toBe(manifest);
      expect(await anchors(submissionId), what).toEqual([`submission-${submissionId}`]);
    }
    // Put back, the pack is exported as it was.
    const zip = path.join(path.dirname(fx.outbox), `restored-${period}.zip`);
    expect(await exportEvidence(fx.db.pool, evidence, 'career', period, 'T', zip, clock)).toMatchObject({ packs: 1, movedAside: [] });
  });

  it('names the pack and the outbox file when a pack to write again cannot be, its sent file archived; leaves nothing half-written', async () => {
    const { period, pack, outbox } = await finalPack();
    // The pack moved away by the operator (as a refusal tells), and the sent file archived meanwhile.
    await fs.rename(pack, `${pack}.moved`);
    await fs.rename(outbox, `${outbox}.archived`);
    const zip = path.join(path.dirname(fx.outbox), `again-${period}.zip`);
    const err = await exportEvidence(fx.db.pool, evidence, 'career', period, 'T', zip, clock).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaillonError);
    expect(err).toMatchObject({ exitCode: 1 });
    expect((err as Error).message).toBe(
      `The outbox file ${outbox}, the bytes sent as ${path.basename(outbox)}, is gone (archived or removed); the evidence pack ${pack} was not written. ` +
        'Put the file back where the ledger recorded it (from a backup), then write the pack again (maillon evidence).',
    );
    expect((await fs.readdir(path.dirname(pack))).filter((n) => n.startsWith('.'))).toEqual([]);
    await fs.rename(`${outbox}.archived`, outbox);
    expect(await exportEvidence(fx.db.pool, evidence, 'career', period, 'T', zip, clock)).toMatchObject({ packs: 1 });
  });

  it('refuses a pack whose replies.json is garbled, missing or edited before writing any addendum: no evidence_written event, no .addenda (exit 13)', async () => {
    const { submissionId, period, pack } = await finalPack();
    const replies = path.join(pack, 'replies.json');
    const changes: Record<string, (f: string) => Promise<void>> = {
      garbled: (f) => fs.writeFile(f, '[{"reply_id": '),
      deleted: (f) => fs.rm(f),
      'one reply dropped': (f) => fs.writeFile(f, '[]\n'),
    };
    for (const [what, change] of Object.entries(changes)) {
      const err = await exportChanged(period, replies, change);
      expect(err, what).toBeInstanceOf(EvidenceMismatchError);
      expect(err, what).toMatchObject({ pack, file: 'replies.json', exitCode: 13 });
      expect(await anchors(submissionId), what).toEqual([`submission-${submissionId}`]);
      expect(existsSync(`${pack}.addenda`), what).toBe(false);
    }
    const zip = path.join(path.dirname(fx.outbox), `replies-${period}.zip`);
    expect(await exportEvidence(fx.db.pool, evidence, 'career', period, 'T', zip, clock)).toMatchObject({ packs: 1 });
    expect(existsSync(`${pack}.addenda`)).toBe(false);
  });
});
