import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { type MovedAside, packFolder, writeEvidencePack, type ManifestEntry } from '../../src/evidence/evidencePack.js';
import { exportEvidence } from '../../src/evidence/exportEvidence.js';
import { EvidenceMismatchError } from '../../src/errors/errors.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';

const sha = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
const ANOMALIES = 2500;
const clock = fixedClock('2026-10-11T06:00:00+02:00');

describe('evidence packs, written and exported by streaming', () => {
  let fx: FlowFixture;
  let evidence: string;

  /** A career run whose submission the receiver accepted with ANOMALIES anomalies (more than one batch of rows). */
  // Each submission is of its own period (a period its receiver holds is never run twice).
  const periods = ['2026-Q3', '2026-Q2', '2026-Q1', '2025-Q4', '2025-Q3', '2025-Q2', '2025-Q1'];
  async function acceptedWithAnomalies(): Promise<{ submissionId: number; outbox: string; fileName: string; replyName: string }> {
    const run = await fx.run(career, periods.shift()!);
    const file = run.files[0]!;
    const { rows } = await fx.db.pool.query(`SELECT submission_id, file_id FROM maillon.files WHERE run_id = $1 AND kind = 'FI'`, [run.runId]);
    const { submission_id: submissionId, file_id: fileId } = rows[0];
    const reply = path.join(path.dirname(fx.outbox), `reply-${run.runId}.xml`);
    await fs.writeFile(reply, '<NOTI/>\n');
    const r = await fx.db.pool.query(
      `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, kind, file_name)
       VALUES ('test', $1, now(), 8, $2, $3, 'processed', 'NOTI', $4) RETURNING reply_id`,
      [`FO.NOTI.999999.20261010.0000${run.runId}.T`, await sha(reply), reply, file.name],
    );
    await fx.db.pool.query(
      `INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, inss, blocking, code, description)
       SELECT $1, $2, $3, 1 + i % 8, '85073003328', i % 2 = 0, 'N' || i, 'remark "' || i || '" \\ with quotes' FROM generate_series(1, ${ANOMALIES}) i`,
      [r.rows[0].reply_id, fileId, run.runId],
    );
    await fx.db.pool.query(`UPDATE maillon.files SET ack_state = 'received', noti_state = 'accepted_with_anomalies' WHERE file_id = $1`, [fileId]);
    // Along the ledger's state graph (migration 009 refuses any other move): sent, then notified.
    await fx.db.pool.query(`UPDATE maillon.submissions SET go_started_at = now(), sent_at = now(), state = 'sent' WHERE submission_id = $1`, [submissionId]);
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'accepted_with_anomalies' WHERE submission_id = $1`, [submissionId]);
    return { submissionId: Number(submissionId), outbox: file.path, fileName: file.name, replyName: `FO.NOTI.999999.20261010.0000${run.runId}.T` };
  }

  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    evidence = path.join(path.dirname(fx.outbox), 'evidence');
  });
  afterAll(async () => fx?.close());

  it('copies the bytes sent and the replies, lists every anomaly, and hashes each file in its manifest', async () => {
    const { submissionId, outbox } = await acceptedWithAnomalies();
    const pack = (await writeEvidencePack(fx.db.pool, evidence, submissionId, clock))!;
    const manifest = JSON.parse(await fs.readFile(path.join(pack, 'manifest.json'), 'utf8')) as ManifestEntry[];
    expect(manifest.map((e) => e.path)).toEqual([
      `sent/${path.basename(outbox)}`,
      'transcript.json',
      `replies/FO.NOTI.999999.20261010.0000${submissionId}.T`,
      'replies.json',
      'events.json',
      'reconciliation.json',
    ]);
    for (const e of manifest) {
      expect(await sha(path.join(pack, e.path)), e.path).toBe(e.sha256);
      expect((await fs.stat(path.join(pack, e.path))).size, e.path).toBe(e.bytes);
    }
    expect(manifest[0]!.sha256).toBe(await sha(outbox));
    const reconciliation = JSON.parse(await fs.readFile(path.join(pack, 'reconciliation.json'), 'utf8'));
    expect(reconciliation.submission.state).toBe('accepted_with_anomalies');
    expect(reconciliation.anomalies).toHaveLength(ANOMALIES);
    expect(reconciliation.anomalies[ANOMALIES - 1]).toEqual({
      ordinal: 1 + (ANOMALIES % 8),
      source_key: expect.any(String),
      blocking: true,
      code: `N${ANOMALIES}`,
      description: `remark "${ANOMALIES}" \\ with quotes`,
    });
  });

  it('writes no pack, and leaves no temporary folder, when a sent file no longer matches the ledger', async () => {
    const { submissionId, outbox } = await acceptedWithAnomalies();
    const original = await fs.readFile(outbox);
    await fs.appendFile(outbox, '<!-- changed -->');
    await expect(writeEvidencePack(fx.db.pool, evidence, submissionId, clock)).rejects.toThrow(/no longer matches its sha256 in the ledger; the evidence pack was not written/);
    const left = await fs.readdir(path.join(evidence, 'career', '2026-Q2', 'T'));
    expect(left.filter((n) => n.includes(`submission-${submissionId}`))).toEqual([]);
    // Put right, the pack is written.
    await fs.writeFile(outbox, original);
    expect(await writeEvidencePack(fx.db.pool, evidence, submissionId, clock)).toMatch(new RegExp(`submission-${submissionId}$`));
  });

  it('exports the packs as a deflated zip that unzip verifies, every file matching the manifest', async () => {
    const zip = path.join(path.dirname(fx.outbox), 'evidence.zip');
    const result = await exportEvidence(fx.db.pool, evidence, 'career', '2026-Q3', 'T', zip, clock);
    expect(result).toMatchObject({ packs: 1, pending: [] });
    expect(execFileSync('unzip', ['-t', zip], { encoding: 'utf8' })).toMatch(/No errors detected/);
    const manifest = JSON.parse(execFileSync('unzip', ['-p', zip, 'manifest.json'], { encoding: 'utf8' })) as { files: ManifestEntry[] };
    expect(manifest.files.map((f) => f.path)).toContain('submission-1/reconciliation.json');
    let bytes = 0;
    for (const f of manifest.files) {
      const entry = execFileSync('unzip', ['-p', zip, f.path], { maxBuffer: 64 * 1024 * 1024 });
      expect(createHash('sha256').update(entry).digest('hex'), f.path).toBe(f.sha256);
      expect(entry.length).toBe(f.bytes);
      bytes += f.bytes;
    }
    expect((await fs.stat(zip)).size).toBeLessThan(bytes / 2);
  });
  it('never replaces an export, and leaves nothing under the name asked for when an export fails', async () => {
    const zip = path.join(path.dirname(fx.outbox), 'evidence.zip');
    const first = await sha(zip);
    await expect(exportEvidence(fx.db.pool, evidence, 'career', '2026-Q3', 'T', zip, clock)).rejects.toThrow(`${zip} already exists: an evidence export is never replaced`);
    expect(await sha(zip)).toBe(first);
    // A late file of the zip (the bytes sent, never read before they are zipped) changed since its pack was written: the export fails once most of the zip is written.
    const pack = packFolder(evidence, 'career', '2026-Q3', 'T', 1);
    const last = path.join(pack, 'sent', (await fs.readdir(path.join(pack, 'sent')))[0]!);
    const saved = await fs.readFile(last);
    await fs.appendFile(last, ' ');
    const failed = path.join(path.dirname(fx.outbox), 'failed.zip');
    try {
      await expect(exportEvidence(fx.db.pool, evidence, 'career', '2026-Q3', 'T', failed, clock)).rejects.toThrow(/sent\/FI\.CARR\.[0-9.T]+ has the sha256/);
    } finally {
      await fs.writeFile(last, saved);
    }
    expect((await fs.readdir(path.dirname(failed))).filter((n) => n.includes('failed.zip'))).toEqual([]);
  });

  it("moves aside another ledger's pack found under a submission's folder (ids that started again), and writes the submission's own", async () => {
    const seq = await fx.db.pool.query<{ n: string }>('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END AS n FROM maillon.submissions_submission_id_seq');
    const next = Number(seq.rows[0]!.n);
    // The folder the next submission's pack takes, holding the pack of a submission of the same id from another history.
    const folder = packFolder(evidence, 'career', '2026-Q1', 'T', next);
    await fs.mkdir(folder, { recursive: true });
    const foreign = JSON.stringify({ submission: { submission_id: String(next), created_at: '2020-01-01T00:00:00.000Z' } });
    await fs.writeFile(path.join(folder, 'transcript.json'), foreign);
    await fs.chmod(folder, 0o500);
    const { submissionId } = await acceptedWithAnomalies();
    expect(submissionId).toBe(next);
    const moved: MovedAside[] = [];
    expect(await writeEvidencePack(fx.db.pool, evidence, submissionId, clock, (m) => moved.push(m))).toBe(folder);
    const own = JSON.parse(await fs.readFile(path.join(folder, 'transcript.json'), 'utf8'));
    expect(own.submission).toMatchObject({ submission_id: String(next), state: 'accepted_with_anomalies' });
    expect(own.submission.created_at).not.toBe('2020-01-01T00:00:00.000Z');
    const orphans = await fs.readdir(path.join(evidence, '.orphans'));
    expect(orphans).toEqual([expect.stringMatching(new RegExp(`^career\\.2026-Q1\\.T\\.submission-${next}\\.[0-9a-f]{8}$`))]);
    expect(await fs.readFile(path.join(evidence, '.orphans', orphans[0]!, 'transcript.json'), 'utf8')).toBe(foreign);
    expect((await fs.stat(path.join(evidence, '.orphans', orphans[0]!))).mode & 0o777).toBe(0o500);
    // Said, with where it went.
    expect(moved).toEqual([{ folder, to: path.join(evidence, '.orphans', orphans[0]!) }]);
    // Its own pack, found again, is kept as it is.
    expect(await writeEvidencePack(fx.db.pool, evidence, submissionId, clock)).toBe(folder);
    expect(await fs.readdir(path.join(evidence, '.orphans'))).toHaveLength(1);
  });

  it('keeps every reply of the ledger, each under its own entry, when the same name was recorded from two servers (a replay)', async () => {
    const { submissionId, fileName, replyName } = await acceptedWithAnomalies();
    // The same reply, read again from the folder of another server: recorded as a conflict, with its own kept body.
    const replayed = path.join(path.dirname(fx.outbox), `replayed-${submissionId}.xml`);
    await fs.writeFile(replayed, '<NOTI>replayed</NOTI>\n');
    const r = await fx.db.pool.query(
      `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, reason, kind, file_name)
       VALUES ('other', $1, now(), 22, $2, $3, 'conflict', 'Duplicate: the NOTI was already applied.', 'NOTI', $4) RETURNING reply_id`,
      [replyName, await sha(replayed), replayed, fileName],
    );
    const second = `replies/${replyName}.reply-${r.rows[0].reply_id}`;
    const pack = (await writeEvidencePack(fx.db.pool, evidence, submissionId, clock))!;
    const manifest = JSON.parse(await fs.readFile(path.join(pack, 'manifest.json'), 'utf8')) as ManifestEntry[];
    expect(manifest.map((e) => e.path).filter((p) => p.startsWith('replies/'))).toEqual([`replies/${replyName}`, second]);
    expect(await fs.readFile(path.join(pack, second), 'utf8')).toBe('<NOTI>replayed</NOTI>\n');
    const replies = JSON.parse(await fs.readFile(path.join(pack, 'replies.json'), 'utf8'));
    expect(replies).toMatchObject([
      { server: 'test', name: replyName, state: 'processed', entry: `replies/${replyName}` },
      { server: 'other', name: replyName, state: 'conflict', reason: 'Duplicate: the NOTI was already applied.', entry: second },
    ]);
    const zip = path.join(path.dirname(fx.outbox), 'replayed.zip');
    expect(await exportEvidence(fx.db.pool, evidence, 'career', '2025-Q4', 'T', zip, clock)).toMatchObject({ packs: 1, pending: [] });
  });

  it('puts in the pack only reply bodies that still have the sha256 the ledger recorded, and says so of the others', async () => {
    const { submissionId, fileName, replyName } = await acceptedWithAnomalies();
    const kept = (await fx.db.pool.query(`SELECT local_path FROM maillon.replies WHERE name = $1`, [replyName])).rows[0].local_path as string;
    await fs.writeFile(kept, '<NOTI>forged</NOTI>\n');
    const lost = path.join(path.dirname(fx.outbox), `lost-${submissionId}.xml`);
    await fx.db.pool.query(
      `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, reason, kind, file_name)
       VALUES ('other', 'FO.NOTI.999999.20261011.55555.T', now(), 8, $1, $2, 'conflict', 'Duplicate: the NOTI was already applied.', 'NOTI', $3)`,
      ['0'.repeat(64), lost, fileName],
    );
    const pack = (await writeEvidencePack(fx.db.pool, evidence, submissionId, clock))!;
    const manifest = JSON.parse(await fs.readFile(path.join(pack, 'manifest.json'), 'utf8')) as ManifestEntry[];
    expect(manifest.map((e) => e.path).filter((p) => p.startsWith('replies/'))).toEqual([]);
    const replies = JSON.parse(await fs.readFile(path.join(pack, 'replies.json'), 'utf8'));
    expect(replies).toMatchObject([
      { name: replyName, entry: null, body: 'differs', found: { bytes: 20, sha256: await sha(kept) } },
      { name: 'FO.NOTI.999999.20261011.55555.T', entry: null, body: 'missing' },
    ]);
  });

  it('refuses to export a pack that no longer matches its manifest or the ledger, naming the pack and the file', async () => {
    const { submissionId, outbox } = await acceptedWithAnomalies();
    const pack = (await writeEvidencePack(fx.db.pool, evidence, submissionId, clock))!;
    const zip = path.join(path.dirname(fx.outbox), 'tampered.zip');
    const refusal = async (): Promise<EvidenceMismatchError> => {
      const err = await exportEvidence(fx.db.pool, evidence, 'career', '2025-Q2', 'T', zip, clock).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EvidenceMismatchError);
      expect(await fs.readdir(path.dirname(zip))).not.toContain('tampered.zip');
      return err as EvidenceMismatchError;
    };
    /** Runs `change` on the pack, checks the export's refusal, and puts the pack back as it was. */
    const tampered = async (rel: string, change: (file: string) => Promise<void>): Promise<EvidenceMismatchError> => {
      const file = path.join(pack, rel);
      const saved = await fs.readFile(file).catch(() => null);
      await change(file);
      try {
        return await refusal();
      } finally {
        if (saved) await fs.writeFile(file, saved);
        else await fs.rm(file);
      }
    };
    const manifestFile = path.join(pack, 'manifest.json');
    const manifest = await fs.readFile(manifestFile, 'utf8');

    // The reviewer's case: reconciliation.json edited, the pack's own manifest left as it was.
    const edited = await tampered('reconciliation.json', async (f) => fs.writeFile(f, (await fs.readFile(f, 'utf8')).replace('"state": "accepted_with_anomalies"', '"state": "rejected"')));
    expect(edited).toMatchObject({ pack, file: 'reconciliation.json', exitCode: 13 });
    expect(edited.message).toMatch(
      /^The evidence pack .* does not match its manifest: reconciliation.json has the sha256 [0-9a-f]{64}, its manifest.json says [0-9a-f]{64} \(changed after the pack was written\)\. Nothing was exported\./,
    );

    // The bytes sent changed and the manifest rewritten to agree: the ledger's sha256 still tells.
    const sent = `sent/${path.basename(outbox)}`;
    const forged = await tampered(sent, async (f) => {
      await fs.appendFile(f, '<!-- forged -->');
      const sha256 = await sha(f);
      await fs.writeFile(manifestFile, manifest.replace(JSON.parse(manifest).find((e: ManifestEntry) => e.path === sent).sha256, sha256));
    });
    await fs.writeFile(manifestFile, manifest);
    expect(forged).toMatchObject({ pack, file: sent });
    expect(forged.message).toMatch(/does not match the ledger: its manifest gives sent\/.* the sha256 [0-9a-f]{64}, the ledger recorded [0-9a-f]{64} when it was written/);

    // A file slipped into the pack.
    expect(await tampered('replies/extra.xml', (f) => fs.writeFile(f, '<NOTI/>'))).toMatchObject({ pack, file: 'replies/extra.xml' });

    // Put back as it was written, the pack is exported.
    expect(await exportEvidence(fx.db.pool, evidence, 'career', '2025-Q2', 'T', zip, clock)).toMatchObject({ packs: 1 });
  });

  it('never rewrites a pack: a reply recorded after it gets its own addendum, which the export carries', async () => {
    const { submissionId, fileName } = await acceptedWithAnomalies();
    const pack = (await writeEvidencePack(fx.db.pool, evidence, submissionId, clock))!;
    const sealed = await fs.readFile(path.join(pack, 'manifest.json'), 'utf8');
    const late = path.join(path.dirname(fx.outbox), `late-${submissionId}.xml`);
    await fs.writeFile(late, '<NOTI>rejected</NOTI>\n');
    const r = await fx.db.pool.query(
      `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, reason, kind, file_name)
       VALUES ('test', 'FO.NOTI.999999.20261011.77777.T', now(), 22, $1, $2, 'conflict', 'Contradiction: this NOTI says rejected.', 'NOTI', $3) RETURNING reply_id`,
      [await sha(late), late, fileName],
    );
    const replyId = r.rows[0].reply_id as string;
    expect(await writeEvidencePack(fx.db.pool, evidence, submissionId, clock)).toBe(pack);
    expect(await fs.readFile(path.join(pack, 'manifest.json'), 'utf8')).toBe(sealed);
    const addendum = path.join(`${pack}.addenda`, `reply-${replyId}`);
    const manifest = JSON.parse(await fs.readFile(path.join(addendum, 'manifest.json'), 'utf8')) as ManifestEntry[];
    expect(manifest.map((e) => e.path)).toEqual(['addendum.json', 'replies/FO.NOTI.999999.20261011.77777.T', 'replies.json']);
    expect(manifest[1]!.sha256).toBe(await sha(late));
    expect(JSON.parse(await fs.readFile(path.join(addendum, 'replies.json'), 'utf8'))).toMatchObject([{ reply_id: replyId, state: 'conflict', body: 'kept' }]);
    expect((await fs.stat(addendum)).mode & 0o777).toBe(0o500);

    const zip = path.join(path.dirname(fx.outbox), 'late.zip');
    await exportEvidence(fx.db.pool, evidence, 'career', '2025-Q1', 'T', zip, clock);
    const listing = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).split('\n');
    expect(listing).toContain(`submission-${submissionId}.addenda/reply-${replyId}/replies/FO.NOTI.999999.20261011.77777.T`);
    expect(listing).toContain(`submission-${submissionId}.addenda/reply-${replyId}/replies.json`);
  });
});
