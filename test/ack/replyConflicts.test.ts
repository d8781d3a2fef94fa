import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { cancelSubmission } from '../../src/transport/cancelSubmission.js';
import { acrfBody, CHANNEL_CLOCK, createReplyChannel, notiBody, type ReplyChannel } from '../helpers/replyChannel.js';

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
    const outcomes = await ch.acks('R');
    expect(outcomeOf(outcomes, aboutT)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/its name says environment R but the file it names, .*, was sent in environment T/) });
    expect(outcomeOf(outcomes, named)).toMatchObject({ result: 'conflict', reason: expect.stringMatching(/its name says environment T but it came from OUT, which holds R replies only/) });
    expect(await ch.stateOf(t.submissionId)).toBe('sent');
  });

  it('keeps an accepted submission accepted when a second NOTI says rejected: a conflict, and the sealed evidence pack is never contradicted', async () => {
    const t = await ch.runAndSend('T');
    await ch.simulate();
    await ch.acks('T', { evidenceDir });
    expect(await ch.stateOf(t.submissionId)).toBe('accepted');
    const pack = path.join(evidenceDir, 'career', t.period, 'T', `submission-${t.submissionId}`);
    const sealed = await hashes(pack);
    const events = async (): Promise<number> => (await ch.fx.db.pool.query('SELECT count(*)::int AS n FROM maillon.events WHERE submission_id = $1', [t.submissionId])).rows[0].n;
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
  });
});
