import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINES } from '../../pipelines/index.js';
import type { ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { checkRereads } from '../../src/ack/rereadRequest.js';
import { UsageError } from '../../src/errors/errors.js';
import { openSftpSession, type SftpSession } from '../../src/transport/sftpSession.js';
import { statusSnapshot } from '../../src/status/statusSnapshot.js';
import { statusToHtml } from '../../src/status/statusHtml.js';
import { zipOne } from '../../src/simulate/zipOne.js';
import { acrfBody, CHANNEL_CLOCK, createReplyChannel, notiBody, type ReplyChannel } from '../helpers/replyChannel.js';

const outcomeOf = (outcomes: ReplyOutcome[], name: string): ReplyOutcome | undefined => outcomes.find((o) => o.name === name);

/** A positive ACRF padded (with an element the layout ignores) to more than `bytes`. */
const paddedAcrf = (file: string, bytes: number): string => acrfBody(file, true).replace('<Form>', `<Form><ReferenceNbr>${'7'.repeat(bytes)}</ReferenceNbr>`);

describe('a set-aside reply is not final: read again when its cause is gone, on demand, and a replaced reply is a conflict (real sshd, real PostgreSQL)', () => {
  let ch: ReplyChannel;
  let trustStore: Awaited<ReturnType<ReplyChannel['trustStore']>>;
  const sign = (folder: 'OUT' | 'OUTTEST', name: string): Promise<void> => ch.sign(folder, name);
  const rowOf = async (name: string): Promise<Record<string, unknown>> =>
    (await ch.fx.db.pool.query('SELECT state, depends_on, depends_value, replaced_bytes FROM maillon.replies WHERE name = $1', [name])).rows[0];

  beforeAll(async () => {
    ch = await createReplyChannel();
    trustStore = await ch.trustStore();
  });
  afterAll(async () => ch?.close());

  it('reads again a reply set aside as too large once MAILLON_MAX_REPLY_BYTES is raised, and not before', async () => {
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'ACRF', paddedAcrf(t.file, 1500));
    expect(outcomeOf(await ch.acks('T', { maxReplyBytes: 1024 }), name)).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/over the limit of 1024; not downloaded/) });
    expect(await rowOf(name)).toMatchObject({ state: 'set_aside', depends_on: 'max_reply_bytes', depends_value: '1024' });
    // The same limit: nothing to read again (and nothing downloaded).
    expect(outcomeOf(await ch.acks('T', { maxReplyBytes: 1024 }), name)).toEqual({ name, result: 'already-processed' });
    expect(outcomeOf(await ch.acks('T', { maxReplyBytes: 1_000_000 }), name)).toEqual({ name, result: 'processed' });
    expect(await ch.stateOf(t.submissionId)).toBe('received');
    expect(await rowOf(name)).toMatchObject({ state: 'processed', depends_on: null });
  });

  it('reads a zipped reply whose content is over MAILLON_MAX_REPLY_BYTES: once unzipped, MAILLON_MAX_UNZIPPED_BYTES limits it (1 GiB unless set)', async () => {
    const t = await ch.runAndSend('T');
    // Over the channel's download limit (1,000,000 bytes) once unzipped, a few KB zipped: as a CO reply over 50 MB is.
    const anomalies = Array.from({ length: 12_000 }, () => ({ blocking: 'N', code: 'N0007', description: 'remark about the whole file' }));
    const noti = notiBody(t.file, 2, anomalies);
    expect(noti.length).toBeGreaterThan(1_000_000);
    const name = await ch.put('OUTTEST', 'T', 'NOTI', await zipOne('reply.xml', noti), 'CO');
    expect(outcomeOf(await ch.acks('T'), name)).toEqual({ name, result: 'processed' });
    expect(await ch.stateOf(t.submissionId)).toBe('accepted_with_anomalies');
  });

  it('reads again a zipped reply set aside as too large once unzipped once MAILLON_MAX_UNZIPPED_BYTES is raised, and not before', async () => {
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'ACRF', await zipOne('reply.xml', paddedAcrf(t.file, 5000)), 'CO');
    expect(outcomeOf(await ch.acks('T', { maxUnzippedBytes: 2048 }), name)).toMatchObject({
      result: 'set_aside',
      reason: expect.stringMatching(/over the limit of 2048 once unzipped \(MAILLON_MAX_UNZIPPED_BYTES\); it was set aside\.$/),
    });
    expect(await rowOf(name)).toMatchObject({ state: 'set_aside', depends_on: 'max_unzipped_bytes', depends_value: '2048' });
    // The same limit, or a higher download limit: nothing to read again.
    expect(outcomeOf(await ch.acks('T', { maxUnzippedBytes: 2048 }), name)).toEqual({ name, result: 'already-processed' });
    expect(outcomeOf(await ch.acks('T', { maxUnzippedBytes: 2048, maxReplyBytes: 2_000_000 }), name)).toEqual({ name, result: 'already-processed' });
    expect(outcomeOf(await ch.acks('T', { maxUnzippedBytes: 1_000_000 }), name)).toEqual({ name, result: 'processed' });
    expect(await rowOf(name)).toMatchObject({ state: 'processed', depends_on: null });
  });

  it('reads again a signed reply set aside for want of a trust store once MAILLON_TRUST_STORE is set', async () => {
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    await sign('OUTTEST', name);
    expect(outcomeOf(await ch.acks('T'), name)).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/is signed but no trust store is configured/) });
    expect(outcomeOf(await ch.acks('T'), name)?.result).toBe('already-processed');
    expect(outcomeOf(await ch.acks('T', { trustStore }), name)).toEqual({ name, result: 'processed' });
    expect(await ch.stateOf(t.submissionId)).toBe('received');
  });

  it('reads again a truncated reply once the receiver completes it (the server lists another size)', async () => {
    const t = await ch.runAndSend('T');
    const whole = acrfBody(t.file, true);
    const name = await ch.put('OUTTEST', 'T', 'ACRF', whole.slice(0, 120));
    expect(outcomeOf(await ch.acks('T'), name)).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/not well-formed XML/) });
    expect(outcomeOf(await ch.acks('T'), name)?.result).toBe('already-processed');
    await fs.writeFile(path.join(ch.sshd.root, 'OUTTEST', name), whole);
    expect(outcomeOf(await ch.acks('T'), name)).toEqual({ name, result: 'processed' });
    expect(await ch.stateOf(t.submissionId)).toBe('received');
  });

  it('reports a reply replaced on the server after it was applied as a conflict, once, applies nothing of it, and lists it in the status', async () => {
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 1));
    await ch.acks('T');
    expect(await ch.stateOf(t.submissionId)).toBe('accepted');
    await fs.writeFile(path.join(ch.sshd.root, 'OUTTEST', name), notiBody(t.file, 3, [{ blocking: 'B', code: 'E900' }]));
    expect(outcomeOf(await ch.acks('T'), name)).toMatchObject({
      result: 'conflict',
      reason: expect.stringMatching(/^Replaced on the server: this reply was read on .* \(\d+ bytes, applied\) and .* now lists \d+ bytes under the same name\. Its new content was not read/),
    });
    expect(await ch.stateOf(t.submissionId)).toBe('accepted');
    expect(outcomeOf(await ch.acks('T'), name)?.result).toBe('already-processed');
    expect(await rowOf(name)).toMatchObject({ state: 'processed', replaced_bytes: expect.anything() });

    const status = await statusSnapshot(ch.fx.db.pool, PIPELINES, 'T', CHANNEL_CLOCK.now(), 30, 48);
    expect(status.unsettledReplies).toContainEqual(expect.objectContaining({ name, issue: 'replaced', action: null, reason: expect.stringMatching(/^Replaced on the server/) }));
    await expect(checkRereads(ch.fx.db.pool, [name])).rejects.toThrow(/was read on .* \(applied\): only a reply set aside can be read again/);
  });

  describe('a reply replaced by other content of the same size', () => {
    /** The names of the remote files read (downloaded or hashed) by the passes run with `counting`. */
    const reads: string[] = [];
    const counting = async (...args: Parameters<typeof openSftpSession>): Promise<SftpSession> => {
      const real = await openSftpSession(...args);
      return {
        ...real,
        readStream(remote) {
          reads.push(path.posix.basename(remote));
          return real.readStream(remote);
        },
      };
    };
    /** One pass; returns the outcome of `name` and how many times that reply was read. */
    const pass = async (name: string): Promise<{ outcome: ReplyOutcome | undefined; reads: number }> => {
      reads.length = 0;
      const outcome = outcomeOf(await ch.acks('T', { openSession: counting }), name);
      return { outcome, reads: reads.filter((r) => r === name).length };
    };
    /** Rewrites a reply on the server, its modification time `later` seconds after the one it had. */
    const rewrite = async (name: string, body: string, later: number): Promise<void> => {
      const file = path.join(ch.sshd.root, 'OUTTEST', name);
      const before = await fs.stat(file);
      await fs.writeFile(file, body);
      await fs.utimes(file, before.atime, new Date(before.mtime.getTime() + later * 1000));
      expect((await fs.stat(file)).size).toBe(before.size);
    };

    it('is reported as a conflict once, applies nothing of it, and is hashed only when the listing shows another time', async () => {
      const t = await ch.runAndSend('T');
      const accepted = notiBody(t.file, 1);
      const rejecting = notiBody(t.file, 3);
      expect(rejecting.length).toBe(accepted.length);
      const name = await ch.put('OUTTEST', 'T', 'NOTI', accepted);
      expect(await pass(name)).toEqual({ outcome: { name, result: 'processed' }, reads: 1 });
      expect(await ch.stateOf(t.submissionId)).toBe('accepted');
      // Listed as it was read: trusted, nothing read.
      expect(await pass(name)).toEqual({ outcome: { name, result: 'already-processed' }, reads: 0 });

      await rewrite(name, rejecting, 60);
      const replaced = await pass(name);
      expect(replaced.outcome).toMatchObject({
        result: 'conflict',
        reason: expect.stringMatching(
          /^Replaced on the server: this reply was read on .* \(\d+ bytes, sha256 [0-9a-f]{16}…, applied\) and .* now holds other content of the same size under the same name \(sha256 [0-9a-f]{16}…\)\. Its new content was not applied/,
        ),
      });
      expect(replaced.reads).toBe(1);
      expect(await ch.stateOf(t.submissionId)).toBe('accepted');
      expect(await rowOf(name)).toMatchObject({ state: 'processed', replaced_bytes: String(accepted.length) });
      const status = await statusSnapshot(ch.fx.db.pool, PIPELINES, 'T', CHANNEL_CLOCK.now(), 30, 48);
      expect(status.unsettledReplies).toContainEqual(
        expect.objectContaining({ name, issue: 'replaced', reason: expect.stringMatching(/now holding other content of \d+ bytes \(sha256 [0-9a-f]{16}…\)/) }),
      );

      // Told once: the same listing is not read again, and a new time over the same content is read once, quietly.
      expect(await pass(name)).toEqual({ outcome: { name, result: 'already-processed' }, reads: 0 });
      await rewrite(name, rejecting, 60);
      expect(await pass(name)).toEqual({ outcome: { name, result: 'already-processed' }, reads: 1 });
      expect(await pass(name)).toEqual({ outcome: { name, result: 'already-processed' }, reads: 0 });
      expect(await ch.stateOf(t.submissionId)).toBe('accepted');
    });

    it('is not reported when only its time changed, nor when read before times were recorded, and each is hashed once', async () => {
      const t = await ch.runAndSend('T');
      const body = acrfBody(t.file, true);
      const name = await ch.put('OUTTEST', 'T', 'ACRF', body);
      expect(await pass(name)).toEqual({ outcome: { name, result: 'processed' }, reads: 1 });
      await rewrite(name, body, 60);
      expect(await pass(name)).toEqual({ outcome: { name, result: 'already-processed' }, reads: 1 });
      expect(await pass(name)).toEqual({ outcome: { name, result: 'already-processed' }, reads: 0 });
      // A reply read by an earlier maillon has no time recorded: its content is checked once.
      await ch.fx.db.pool.query('UPDATE maillon.replies SET listed_mtime = NULL WHERE name = $1', [name]);
      expect(await pass(name)).toEqual({ outcome: { name, result: 'already-processed' }, reads: 1 });
      expect(await pass(name)).toEqual({ outcome: { name, result: 'already-processed' }, reads: 0 });
      expect(await rowOf(name)).toMatchObject({ state: 'processed', replaced_bytes: null });
      expect(await ch.stateOf(t.submissionId)).toBe('received');
    });
  });

  it('reads again, when the operator asks, a reply set aside for a reason nothing in the listing shows; lists it in the status until then', async () => {
    const t = await ch.runAndSend('T');
    // A directory named like a reply: set aside, not tied to any period.
    const name = await ch.put('OUTTEST', 'T', 'ACRF', '');
    await fs.rm(path.join(ch.sshd.root, 'OUTTEST', name));
    await fs.mkdir(path.join(ch.sshd.root, 'OUTTEST', name));
    expect(outcomeOf(await ch.acks('T'), name)).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/is a directory/) });
    const status = await statusSnapshot(ch.fx.db.pool, PIPELINES, 'T', CHANNEL_CLOCK.now(), 30, 48);
    expect(status.unsettledReplies).toContainEqual(expect.objectContaining({ name, issue: 'set_aside', action: `maillon acks --reread ${name}`, reason: expect.stringMatching(/is a directory/) }));
    expect(statusToHtml(status)).toContain(`<code>maillon acks --reread ${name}</code>`);

    // The receiver puts the genuine reply there, of the size the directory was listed with: nothing shows it.
    const listedSize = (await fs.stat(path.join(ch.sshd.root, 'OUTTEST', name))).size;
    await fs.rmdir(path.join(ch.sshd.root, 'OUTTEST', name));
    await fs.writeFile(path.join(ch.sshd.root, 'OUTTEST', name), paddedAcrf(t.file, listedSize - acrfBody(t.file, true).length - '<ReferenceNbr></ReferenceNbr>'.length));
    expect((await fs.stat(path.join(ch.sshd.root, 'OUTTEST', name))).size).toBe(listedSize);
    expect(outcomeOf(await ch.acks('T'), name)?.result).toBe('already-processed');
    const reread = await checkRereads(ch.fx.db.pool, [name]);
    expect(outcomeOf(await ch.acks('T', { reread }), name)).toEqual({ name, result: 'processed' });
    expect(await ch.stateOf(t.submissionId)).toBe('received');
    const after = await statusSnapshot(ch.fx.db.pool, PIPELINES, 'T', CHANNEL_CLOCK.now(), 30, 48);
    expect(after.unsettledReplies.map((r) => r.name)).not.toContain(name);
  });

  it('refuses to read again a reply the ledger does not hold, and says when one asked for is not listed', async () => {
    await expect(checkRereads(ch.fx.db.pool, ['FO.ACRF.999999.20261010.99999.T'])).rejects.toThrow(UsageError);
    await expect(checkRereads(ch.fx.db.pool, ['FO.ACRF.999999.20261010.99999.T'])).rejects.toThrow(/No reply named FO\.ACRF\.999999\.20261010\.99999\.T is in the ledger/);
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true).slice(0, 50));
    await ch.acks('T');
    await fs.rm(path.join(ch.sshd.root, 'OUTTEST', name));
    const outcome = outcomeOf(await ch.acks('T', { reread: await checkRereads(ch.fx.db.pool, [name]) }), name);
    expect(outcome).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/^Asked to be read again, but no folder read for environment T lists it complete/) });
  });

  describe('an unsigned reply once signatures count (signature stripping)', () => {
    it('sets aside an unsigned reply when a trust store is configured, and reads it once the receiver sends its signature', async () => {
      const t = await ch.runAndSend('T');
      const name = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 3, [{ blocking: 'B', code: 'E900' }]));
      expect(outcomeOf(await ch.acks('T', { trustStore }), name)).toMatchObject({
        result: 'set_aside',
        reason: expect.stringMatching(/came without a signature \(no FS companion before its GO\) and a trust store is configured \(MAILLON_TRUST_STORE\), so a reply must be signed/),
      });
      expect(await ch.stateOf(t.submissionId)).toBe('sent');
      expect(await rowOf(name)).toMatchObject({ depends_on: 'signature' });
      expect(outcomeOf(await ch.acks('T', { trustStore }), name)?.result).toBe('already-processed');
      await sign('OUTTEST', name);
      expect(outcomeOf(await ch.acks('T', { trustStore }), name)).toEqual({ name, result: 'processed' });
      expect(await ch.stateOf(t.submissionId)).toBe('rejected');
    });

    it('sets aside an unsigned production reply (OUT) even with no trust store; a signed one is believed', async () => {
      const r = await ch.runAndSend('R');
      const name = await ch.put('OUT', 'R', 'ACRF', acrfBody(r.file, true));
      expect(outcomeOf(await ch.acks('R'), name)).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/came without a signature .* and a production reply \(OUT\) must be signed/) });
      expect(await ch.stateOf(r.submissionId)).toBe('sent');
      await sign('OUT', name);
      expect(outcomeOf(await ch.acks('R', { trustStore }), name)).toEqual({ name, result: 'processed' });
      expect(await ch.stateOf(r.submissionId)).toBe('received');
    });

    it('still believes an unsigned test reply when no trust store is configured', async () => {
      const t = await ch.runAndSend('T');
      const name = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
      expect(outcomeOf(await ch.acks('T'), name)).toEqual({ name, result: 'processed' });
    });
  });
});
