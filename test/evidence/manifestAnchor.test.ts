import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { type Pool, withTransaction } from '../../src/db/database.js';
import { EvidenceMismatchError } from '../../src/errors/errors.js';
import { writeEvidencePack, type ManifestEntry } from '../../src/evidence/evidencePack.js';
import { type EvidenceExport, exportEvidence } from '../../src/evidence/exportEvidence.js';
import { verifyChain } from '../../src/ledger/events.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { cancelUnsent, submissionsOf } from '../helpers/ledger.js';
import { ROOT } from '../helpers/runHarness.js';

const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
const clock = fixedClock('2026-10-11T06:00:00+02:00');

/** What only the database's superuser can still do: remove events with the table's triggers off. */
async function tamper(pool: Pool, sql: string, params: unknown[] = []): Promise<void> {
  await withTransaction(pool, async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(sql, params);
  });
}

describe('the manifest of an evidence pack, anchored in the ledger', () => {
  let fx: FlowFixture;
  let evidence: string;
  let env: Record<string, string>;
  // Each submission is of its own period (a period its receiver holds is never run twice).
  const periods = ['2026-Q3', '2026-Q2', '2026-Q1', '2025-Q4', '2025-Q3'];

  /** A career submission cancelled before it was sent (a final state, reached with its event), and its pack. */
  async function finalPack(): Promise<{ submissionId: number; period: string; pack: string; file: string }> {
    const period = periods.shift()!;
    const run = await fx.run(career, period);
    await cancelUnsent(fx.db.pool, run.runId, '2026-10-10T05:00:00+02:00');
    const [submissionId] = await submissionsOf(fx.db.pool, run.runId);
    const pack = (await writeEvidencePack(fx.db.pool, evidence, submissionId!, clock))!;
    return { submissionId: submissionId!, period, pack, file: run.files[0]!.name };
  }

  /** Edits a JSON file of a (read-only) pack, and rewrites its manifest.json to agree with it. */
  async function forge(pack: string, rel: string, edit: (text: string) => string): Promise<void> {
    const file = path.join(pack, rel);
    await fs.chmod(pack, 0o700);
    await fs.chmod(file, 0o600);
    const original = await fs.readFile(file, 'utf8');
    const forged = edit(original);
    expect(forged).not.toBe(original);
    await fs.writeFile(file, forged);
    const manifestFile = path.join(pack, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as ManifestEntry[];
    const rewritten = manifest.map((e) => (e.path === rel ? { ...e, bytes: Buffer.byteLength(forged), sha256: sha(forged) } : e));
    await fs.chmod(manifestFile, 0o600);
    await fs.writeFile(manifestFile, `${JSON.stringify(rewritten, null, 2)}\n`);
  }

  /** The refusal of the export of a period: an EvidenceMismatchError, and no zip. */
  async function refusal(period: string): Promise<EvidenceMismatchError> {
    const zip = path.join(path.dirname(fx.outbox), `refused-${period}.zip`);
    const err = await exportEvidence(fx.db.pool, evidence, 'career', period, 'T', zip, clock).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvidenceMismatchError);
    expect(await fs.readdir(path.dirname(zip))).not.toContain(path.basename(zip));
    return err as EvidenceMismatchError;
  }

  const anchorsOf = async (submissionId: number): Promise<{ event_id: string; hash: string; detail: { pack: string; manifest: string } }[]> =>
    (await fx.db.pool.query(`SELECT event_id, hash, detail FROM maillon.events WHERE submission_id = $1 AND kind = 'evidence_written' ORDER BY event_id`, [submissionId])).rows;

  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    evidence = path.join(path.dirname(fx.outbox), 'evidence');
    const home = path.dirname(fx.outbox);
    env = { DATABASE_URL: fx.db.url, MAILLON_HOME: home, MAILLON_EVIDENCE: evidence, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_LOG_LEVEL: 'warn', MAILLON_NOW: '2026-10-11T06:00:00+02:00' };
  });
  afterAll(async () => fx?.close());

  it("records each pack's manifest as a chained event, which the export's manifest names and verify-ledger accepts", async () => {
    const { submissionId, period, pack } = await finalPack();
    const manifest = await fs.readFile(path.join(pack, 'manifest.json'));
    const anchors = await anchorsOf(submissionId);
    expect(anchors.map((a) => a.detail)).toEqual([{ pack: `submission-${submissionId}`, manifest: sha(manifest) }]);
    const zip = path.join(path.dirname(fx.outbox), `anchored-${period}.zip`);
    expect(await exportEvidence(fx.db.pool, evidence, 'career', period, 'T', zip, clock)).toMatchObject({ packs: 1, unanchored: [] });
    const top = JSON.parse(execFileSync('unzip', ['-p', zip, 'manifest.json'], { encoding: 'utf8' })) as { anchors: unknown[]; files: ManifestEntry[] };
    expect(top.anchors).toEqual([{ pack: `submission-${submissionId}`, manifest: sha(manifest), event: { id: Number(anchors[0]!.event_id), hash: anchors[0]!.hash } }]);
    expect(top.files.find((f) => f.path === `submission-${submissionId}/manifest.json`)?.sha256).toBe(sha(manifest));
    expect(await verifyChain(fx.db.pool)).toMatchObject({ broken: null, mismatches: [] });
  });

  it('refuses a pack whose JSON file was edited and its manifest rewritten to agree (exit 13, naming the pack)', async () => {
    const { submissionId, period, pack } = await finalPack();
    const recorded = (await anchorsOf(submissionId))[0]!;
    await forge(pack, 'events.json', (t) => t.replace('"kind": "cancelled"', '"kind": "accepted"'));
    const err = await refusal(period);
    expect(err).toMatchObject({ pack, file: 'manifest.json', exitCode: 13 });
    expect(err.message).toContain(
      `The evidence pack ${pack} does not match the ledger: its manifest.json has the sha256 ${sha(await fs.readFile(path.join(pack, 'manifest.json')))}, the ledger recorded ${recorded.detail.manifest} (event #${recorded.event_id}) when it was written`,
    );
    // The command exits 13 with the same sentence.
    const cli = await maillon(['evidence', 'career', '--period', period, '--out', path.join(path.dirname(fx.outbox), `cli-${period}.zip`)], env);
    expect(cli.code).toBe(13);
    expect(cli.stderr).toContain(`The evidence pack ${pack} does not match the ledger: its manifest.json has the sha256`);
  });

  it('refuses an addendum whose addendum.json was edited and its manifest rewritten to agree', async () => {
    const { submissionId, period, pack, file } = await finalPack();
    const late = path.join(path.dirname(fx.outbox), `late-${submissionId}.xml`);
    await fs.writeFile(late, '<ACRF/>\n');
    const r = await fx.db.pool.query(
      `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, reason, kind, file_name)
       VALUES ('test', 'FO.ACRF.999999.20261011.77777.T', now(), 8, $1, $2, 'conflict', 'A reply about a cancelled submission.', 'ACRF', $3) RETURNING reply_id`,
      [sha(await fs.readFile(late)), late, file],
    );
    expect(await writeEvidencePack(fx.db.pool, evidence, submissionId, clock)).toBe(pack);
    const addendum = path.join(`${pack}.addenda`, `reply-${r.rows[0].reply_id}`);
    expect((await anchorsOf(submissionId)).map((a) => a.detail)).toEqual([
      { pack: `submission-${submissionId}`, manifest: expect.any(String) },
      { pack: `submission-${submissionId}.addenda/reply-${r.rows[0].reply_id}`, manifest: sha(await fs.readFile(path.join(addendum, 'manifest.json'))) },
    ]);
    await forge(addendum, 'addendum.json', (t) => t.replace('"state": "cancelled"', '"state": "accepted"'));
    expect(await refusal(period)).toMatchObject({ pack: addendum, file: 'manifest.json', message: expect.stringContaining(`The evidence pack ${addendum} does not match the ledger`) });
  });

  it('refuses a pack without anchor when the ledger anchored every pack since before its submission became final', async () => {
    const { submissionId, period, pack } = await finalPack();
    await tamper(fx.db.pool, `DELETE FROM maillon.events WHERE submission_id = $1 AND kind = 'evidence_written'`, [submissionId]);
    const err = await refusal(period);
    expect(err).toMatchObject({ pack, file: 'manifest.json', exitCode: 13 });
    expect(err.message).toMatch(
      new RegExp(
        `^The evidence pack ${pack} does not match the ledger: the ledger recorded no manifest for it, although it recorded the manifest of every pack maillon wrote since event #\\d+, before this submission became final \\(event #\\d+\\)`,
      ),
    );
  });

  it('exports a pack written before maillon anchored packs, with a warning naming it', async () => {
    const { period, pack } = await finalPack();
    // The ledger as it was before: no pack anchored at all.
    await tamper(fx.db.pool, `DELETE FROM maillon.events WHERE kind = 'evidence_written'`);
    const zip = path.join(path.dirname(fx.outbox), `before-${period}.zip`);
    const result: EvidenceExport = await exportEvidence(fx.db.pool, evidence, 'career', period, 'T', zip, clock);
    expect(result).toMatchObject({ packs: 1, unanchored: [pack] });
    const top = JSON.parse(execFileSync('unzip', ['-p', zip, 'manifest.json'], { encoding: 'utf8' })) as { anchors: unknown[] };
    expect(top.anchors).toEqual([{ pack: path.basename(pack), manifest: sha(await fs.readFile(path.join(pack, 'manifest.json'))), event: null }]);
    const cli = await maillon(['evidence', 'career', '--period', period, '--out', path.join(path.dirname(fx.outbox), `cli-${period}.zip`)], env);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`warning: ${pack} is not anchored in the ledger (written before maillon recorded each pack's manifest there)`);
  });
});
