import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { type AckDeps, ingestReplies, type ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { fixedClock } from '../../src/clock/clock.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { exportEvidence } from '../../src/evidence/exportEvidence.js';
import { verifyChain } from '../../src/ledger/events.js';
import { readPeriodView } from '../../src/ledger/periodView.js';
import { createLogger } from '../../src/log/logger.js';
import { cancelSubmission } from '../../src/transport/cancelSubmission.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { acrfBody, CHANNEL_CLOCK, createReplyChannel, notiBody, type ReplyChannel } from '../helpers/replyChannel.js';
import { endpointOf, requireTestSshd, type TestSshd } from '../helpers/sshd.js';

const outcomeOf = (outcomes: ReplyOutcome[], name: string): ReplyOutcome | undefined => outcomes.find((o) => o.name === name);

/** Every file of a folder (recursively) with the sha256 of its bytes. */
async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) {
      const p = path.join(e.parentPath, e.name);
      out[path.relative(dir, p)] = createHash('sha256')
        .update(await fs.readFile(p))
        .digest('hex');
    }
  }
  return out;
}

describe('replies that cannot lie: environments, duplicates, contradictions and final states (real sshd, real PostgreSQL)', () => {
  let ch: ReplyChannel;
  let evidenceDir: string;

  beforeAll(async () => {
    ch = await createReplyChannel();
    evidenceDir = path.join(path.dirname(ch.fx.outbox), 'evidence');
  });
  afterAll(async () => ch?.close());

  it('does not believe an R reply found in OUTTEST, even about an R file; an S reply there about an S file is believed', async () => {
    const r = await ch.runAndSend('R');
    const s = await ch.runAndSend('S');
    const intruder = await ch.put('OUTTEST', 'R', 'ACRF', acrfBody(r.file, false));
    const outcomes = await ch.acks('S');
    expect(outcomeOf(outcomes, intruder)).toMatchObject({
      result: 'conflict',
      reason: expect.stringMatching(/its name says environment R but it came from OUTTEST, which holds T and S replies only/),
    });
    expect(await ch.stateOf(r.submissionId)).toBe('sent');

    const pass = await ch.simulate();
    const sReplies = pass.replies.filter((n) => n.endsWith('.S'));
    expect(sReplies).toHaveLength(2);
    const read = await ch.acks('S');
    expect(sReplies.map((n) => outcomeOf(read, n)?.result)).toEqual(['processed', 'processed']);
    expect(await ch.stateOf(s.submissionId)).toBe('accepted');
  });

  it('does not believe a T reply about an R file', async () => {
    const r = await ch.runAndSend('R');
    await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(r.file, 3));
    const outcome = outcomeOf(await ch.acks('T'), name);
    expect(outcome).toMatchObject({ result: 'conflict' });
    expect(outcome!.reason).toMatch(new RegExp(`its name says environment T but the file it names, ${r.file.replace(/\./g, '\\.')}, was sent in environment R`));
    expect(await ch.stateOf(r.submissionId)).toBe('sent');
  });

  it('does not believe a reply in OUT (production) about a T file, nor a T reply put in OUT', async () => {
    const t = await ch.runAndSend('T');
    const aboutT = await ch.put('OUT', 'R', 'NOTI', notiBody(t.file, 3));
    const named = await ch.put('OUT', 'T', 'ACRF', acrfBody(t.file, false));
    // Signed, as a production reply must be (an unsigned one is set aside before any rule).
    await ch.sign('OUT', aboutT);
    await ch.sign('OUT', named);
    const outcomes = await ch.acks('R', { trustStore: await ch.trustStore() });
    expect(outcomeOf(outcomes, aboutT)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/its name says environment R but the file it names, .*, was sent in environment T/) });
    expect(outcomeOf(outcomes, named)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/its name says environment T but it came from OUT, which holds R replies only/) });
    expect(await ch.stateOf(t.submissionId)).toBe('sent');
  });

  it('keeps an accepted submission accepted when a second NOTI says rejected: a conflict, the sealed evidence pack never rewritten, each later reply in its addendum', async () => {
    const t = await ch.runAndSend('T');
    await ch.simulate();
    await ch.acks('T', { evidenceDir });
    expect(await ch.stateOf(t.submissionId)).toBe('accepted');
    const pack = path.join(evidenceDir, 'career', t.period, 'T', `submission-${t.submissionId}`);
    const sealed = await hashes(pack);
    // No state event: only the anchor of the addendum the conflict gets (evidence_written) is recorded.
    const events = async (): Promise<number> =>
      (await ch.fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.events WHERE submission_id = $1 AND kind <> 'evidence_written'`, [t.submissionId])).rows[0].n;
    const eventsBefore = await events();

    const second = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 3));
    const outcome = outcomeOf(await ch.acks('T', { evidenceDir }), second);
    expect(outcome).toMatchObject({
      result: 'conflict',
      reason: expect.stringMatching(/^Contradiction: this NOTI says rejected but the NOTI already applied to .* \(FO\.NOTI\.999999\.20261010\.\d{5}\.T\) said accepted; the first stands\.$/),
    });
    expect(await ch.stateOf(t.submissionId)).toBe('accepted');
    expect((await ch.fx.db.pool.query(`SELECT noti_state FROM maillon.files WHERE name = $1`, [t.file])).rows[0].noti_state).toBe('accepted');
    expect(await events()).toBe(eventsBefore);
    expect(await hashes(pack)).toEqual(sealed);
    const reconciliation = JSON.parse(await fs.readFile(path.join(pack, 'reconciliation.json'), 'utf8'));
    expect(reconciliation.submission.state).toBe(await ch.stateOf(t.submissionId));

    const duplicate = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 1));
    const lateAcrf = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, false));
    const outcomes = await ch.acks('T', { evidenceDir });
    expect(outcomeOf(outcomes, duplicate)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/^Duplicate: the NOTI of .* was already applied .*, saying the same \(accepted\)\.$/) });
    expect(outcomeOf(outcomes, lateAcrf)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/^Contradiction: an ACRF after the NOTI .* already said accepted; the NOTI stands\.$/) });
    expect(await ch.stateOf(t.submissionId)).toBe('accepted');
    expect(await hashes(pack)).toEqual(sealed);

    // Each reply recorded after the pack is in its own addendum, written when it was recorded, and in the export.
    const later = (await ch.fx.db.pool.query(`SELECT reply_id, name FROM maillon.replies WHERE name = ANY($1) ORDER BY reply_id`, [[second, duplicate, lateAcrf]])).rows;
    expect(later).toHaveLength(3);
    const addenda = `${pack}.addenda`;
    expect((await fs.readdir(addenda)).sort()).toEqual(later.map((r) => `reply-${r.reply_id}`).sort());
    for (const r of later) {
      const replies = JSON.parse(await fs.readFile(path.join(addenda, `reply-${r.reply_id}`, 'replies.json'), 'utf8'));
      expect(replies).toMatchObject([{ reply_id: r.reply_id, name: r.name, state: 'conflict', body: 'kept', entry: `replies/${r.name}` }]);
    }
    const zip = path.join(evidenceDir, `late-${t.submissionId}.zip`);
    await exportEvidence(ch.fx.db.pool, evidenceDir, 'career', t.period, 'T', zip, CHANNEL_CLOCK);
    const listing = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).split('\n');
    for (const r of later) expect(listing).toContain(`submission-${t.submissionId}.addenda/reply-${r.reply_id}/replies/${r.name}`);
  });

  it('sets aside a second ACRF of a file as a duplicate or a contradiction; the first stands', async () => {
    const t = await ch.runAndSend('T');
    const first = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    const again = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    const contrary = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, false));
    const outcomes = await ch.acks('T');
    expect(outcomeOf(outcomes, first)?.result).toBe('processed');
    expect(outcomeOf(outcomes, again)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/^Duplicate: the ACRF of .* was already applied/) });
    expect(outcomeOf(outcomes, contrary)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/^Contradiction: this ACRF says rejected but the ACRF already applied .* said received/) });
    expect(await ch.stateOf(t.submissionId)).toBe('received');
  });

  it('does not let a reply reopen a cancelled submission', async () => {
    const t = await ch.runAndSend('T');
    const deps = { ledger: ch.fx.db.pool, clock: CHANNEL_CLOCK, logger: ch.sendDeps.logger, endpoints: ch.sendDeps.endpoints, passphrase: () => undefined };
    expect(await cancelSubmission(deps, t.submissionId)).toBe('td-written');
    const name = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 2, [{ inss: '85073003328', code: 'N0007' }]));
    expect(outcomeOf(await ch.acks('T'), name)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/is already cancelled, a final state that no reply changes/) });
    expect(await ch.stateOf(t.submissionId)).toBe('cancelled');
    expect((await ch.fx.db.pool.query('SELECT count(*)::int AS n FROM maillon.record_anomalies a JOIN maillon.replies r USING (reply_id) WHERE r.name = $1', [name])).rows[0].n).toBe(0);
    // The receiver took the GO before the TD: the period is not to do again, an operator decides.
    const view = await readPeriodView(ch.fx.db.pool, 'T', 'career', t.period);
    expect(view).toMatchObject({ phase: 'needs_attention', state: 'cancelled', open: false });
    expect(view.action).toContain(`The receiver answered #${t.submissionId} after it was cancelled: it took the GO before the TD`);
    expect(view.action).toContain(`Ask the receiver whether it holds #${t.submissionId}, then: if it does not, maillon run career`);
    // The instant is a change of the submission: its event is on the chain (once), naming the reply.
    const answered = async () =>
      (await ch.fx.db.pool.query(`SELECT detail FROM maillon.events WHERE submission_id = $1 AND kind = 'answered_after_cancel'`, [t.submissionId])).rows.map((r) => r.detail);
    expect(await answered()).toEqual([{ reply: name, replyKind: 'NOTI' }]);
    const acrf = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    expect(outcomeOf(await ch.acks('T'), acrf)).toMatchObject({ result: 'conflict' });
    expect(await answered()).toHaveLength(1);
    expect(await verifyChain(ch.fx.db.pool)).toMatchObject({ broken: null });
  });

  it('a reply about a submission cancelled before its GO (never sent) proves nothing: the period stays to do', async () => {
    // Written, never sent (a quarter the other tests leave alone).
    const run = await ch.fx.run(career, '2021-Q1', 'T');
    const id = Number((await ch.fx.db.pool.query('SELECT submission_id FROM maillon.submissions WHERE run_id = $1', [run.runId])).rows[0].submission_id);
    const deps = { ledger: ch.fx.db.pool, clock: CHANNEL_CLOCK, logger: ch.sendDeps.logger, endpoints: ch.sendDeps.endpoints, passphrase: () => undefined };
    expect(await cancelSubmission(deps, id)).toBe('cancelled-locally');
    const name = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(run.files[0]!.name, true));
    expect(outcomeOf(await ch.acks('T'), name)).toMatchObject({ result: 'conflict' });
    const view = await readPeriodView(ch.fx.db.pool, 'T', 'career', '2021-Q1');
    expect(view).toMatchObject({ phase: 'to_do', state: 'cancelled', open: true });
  });
});

/** Two reply folders on one server: OA100 answers in OUTTEST, every other insurer shares OUTTEST_B. */
describe("replies that name another receiver's file (real sshd, real PostgreSQL)", () => {
  const clock = fixedClock('2025-01-10T04:00:00+01:00');
  let sshd: TestSshd;
  let fx: FlowFixture;
  let run: RunResult;
  let deps: AckDeps;
  let seq = 70_000;
  const fileOf = (receiver: string): string => run.files.find((f) => f.receiver === receiver)!.name;
  const submissionOf = async (receiver: string): Promise<{ state: string; events: number }> =>
    (
      await fx.db.pool.query(
        `SELECT s.state, (SELECT count(*)::int FROM maillon.events e WHERE e.submission_id = s.submission_id) AS events
         FROM maillon.submissions s JOIN maillon.files f USING (submission_id) WHERE f.name = $1`,
        [fileOf(receiver)],
      )
    ).rows[0];
  /** Puts a T reply (and its GO) in a folder of the server, under a fresh name unless one is given. */
  const put = async (folder: string, purpose: 'ACRF' | 'NOTI', body: string, name = `FO.${purpose}.999999.20250110.${++seq}.T`): Promise<string> => {
    const stem = name.split('.');
    await fs.writeFile(path.join(sshd.root, folder, name), body);
    await fs.writeFile(path.join(sshd.root, folder, `GO.${stem[1]}.999999.${stem[3]}.${stem[4]}.T.1`), '');
    return name;
  };

  beforeAll(async () => {
    sshd = await requireTestSshd();
    await fs.mkdir(path.join(sshd.root, 'OUTTEST_B'), { recursive: true });
    fx = await createFlowFixture();
    run = await fx.run(contributionSlips, '2024-Q1', 'T');
    const file = path.join(path.dirname(fx.outbox), 'receivers.json');
    await fs.writeFile(file, JSON.stringify({ OA100: endpointOf(sshd), '*': endpointOf(sshd, { outTestDir: path.join(sshd.root, 'OUTTEST_B') }) }), { mode: 0o600 });
    const endpoints = loadEndpoints(file);
    const logger = createLogger('silent');
    const sent = await sendSubmissions({ ledger: fx.db.pool, clock, logger, endpoints, passphrase: () => undefined, backoffMs: 10 });
    expect(sent.every((s) => s.result === 'sent')).toBe(true);
    const base = path.dirname(fx.outbox);
    deps = { ledger: fx.db.pool, clock, logger, endpoints, passphrase: () => undefined, repliesDir: path.join(base, 'replies'), maxReplyBytes: 1_000_000 };
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it("does not let one receiver's server settle another receiver's file (a conflict that changes nothing); a shared folder settles each of its receivers' files", async () => {
    const before = await submissionOf('OA200');
    const name = await put('OUTTEST', 'ACRF', acrfBody(fileOf('OA200'), false));
    const outcome = outcomeOf(await ingestReplies(deps, 'T'), name);
    expect(outcome).toMatchObject({
      result: 'conflict',
      reason: `Wrong receiver: it came from ${sshd.user}@${sshd.host}:${sshd.port}${path.join(sshd.root, 'OUTTEST')}, which holds the replies of OA100 only, but the file it names, ${fileOf('OA200')}, was sent to OA200. It was not believed; check the receivers file if OA200 really answers there.`,
    });
    expect(outcome!.reason).not.toMatch(/\d{11}/);
    expect(await submissionOf('OA200')).toEqual(before);
    const recorded = await fx.db.pool.query(`SELECT state, file_name FROM maillon.replies WHERE name = $1`, [name]);
    expect(recorded.rows).toEqual([{ state: 'conflict', file_name: fileOf('OA200') }]);

    const shared = [...new Set(run.files.map((f) => f.receiver))].filter((r) => r !== 'OA100');
    expect(shared.length).toBeGreaterThan(1);
    const names = [];
    for (const receiver of shared) names.push(await put('OUTTEST_B', 'ACRF', acrfBody(fileOf(receiver), true)));
    const outcomes = await ingestReplies(deps, 'T');
    expect(names.map((n) => outcomeOf(outcomes, n)?.result)).toEqual(shared.map(() => 'processed'));
    for (const receiver of shared) expect((await submissionOf(receiver)).state).toBe('received');
  });

  it("writes the evidence pack, and exports it, after a reply was read again from another receiver's folder", async () => {
    const evidenceDir = path.join(path.dirname(fx.outbox), 'evidence');
    const acrf = await put('OUTTEST', 'ACRF', acrfBody(fileOf('OA100'), true));
    await put('OUTTEST_B', 'ACRF', acrfBody(fileOf('OA100'), true), acrf); // the same name and bytes, in the other folder
    const first = await ingestReplies({ ...deps, evidenceDir }, 'T');
    expect(first.filter((o) => o.name === acrf)).toMatchObject([{ result: 'processed' }, { result: 'conflict', reason: expect.stringMatching(/^Wrong receiver: /) }]);
    await put('OUTTEST', 'NOTI', notiBody(fileOf('OA100'), 1));
    await ingestReplies({ ...deps, evidenceDir }, 'T');
    expect((await submissionOf('OA100')).state).toBe('accepted');
    const zip = path.join(path.dirname(fx.outbox), 'evidence.zip');
    expect(await exportEvidence(fx.db.pool, evidenceDir, 'contribution-slips', '2024-Q1', 'T', zip, clock)).toMatchObject({ packs: 1 });
  });
});
