import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { writeEvidencePack } from '../../src/evidence/evidencePack.js';
import { createReplyChannel, type ReplyChannel } from '../helpers/replyChannel.js';

describe('the evidence pack a reply calls for, written after the reply is recorded (real sshd, real PostgreSQL)', () => {
  let ch: ReplyChannel;
  let evidenceDir: string;

  beforeAll(async () => {
    ch = await createReplyChannel();
    evidenceDir = path.join(path.dirname(ch.fx.outbox), 'evidence');
  });
  afterAll(async () => ch?.close());

  it('reports a pack that cannot be written and reads the other replies of the pass; the pack is written once the outbox file is back', async () => {
    const first = await ch.runAndSend('T');
    const second = await ch.runAndSend('T');
    await ch.simulate();
    // The first submission's sent file archived away from the outbox before its NOTI is read.
    const outbox = first.run.files[0]!.path;
    await fs.rename(outbox, `${outbox}.archived`);
    const outcomes: ReplyOutcome[] = await ch.acks('T', { evidenceDir });

    // Both submissions' replies were read and applied: the first pack's failure ended nothing.
    expect(await ch.stateOf(first.submissionId)).toBe('accepted');
    expect(await ch.stateOf(second.submissionId)).toBe('accepted');
    const reported = outcomes.filter((o) => o.evidence);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ result: 'processed' });
    expect(reported[0]!.evidence).toContain(`The evidence pack of submission #${first.submissionId} could not be written: The outbox file ${outbox}`);
    expect(reported[0]!.evidence).toContain(`the evidence pack ${path.join(evidenceDir, 'career', first.period, 'T', `submission-${first.submissionId}`)} was not written`);
    expect(outcomes.filter((o) => o.result === 'processed').length).toBeGreaterThanOrEqual(4);
    expect(await fs.readdir(path.join(evidenceDir, 'career', second.period, 'T'))).toEqual([`submission-${second.submissionId}`]);
    // Nothing half-written is left for the first.
    expect(await fs.readdir(path.join(evidenceDir, 'career', first.period, 'T'))).toEqual([]);

    await fs.rename(`${outbox}.archived`, outbox);
    expect(await writeEvidencePack(ch.fx.db.pool, evidenceDir, first.submissionId, ch.ackDeps.clock)).toBe(path.join(evidenceDir, 'career', first.period, 'T', `submission-${first.submissionId}`));
  });
});
