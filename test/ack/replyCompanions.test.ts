import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { openSftpSession, type SftpSession } from '../../src/transport/sftpSession.js';
import { acrfBody, createReplyChannel, type ReplyChannel } from '../helpers/replyChannel.js';

const outcomeOf = (outcomes: ReplyOutcome[], name: string): ReplyOutcome | undefined => outcomes.find((o) => o.name === name);

/** The local files of a reply (its body and its FS companion) in `dir`, by what follows their `<instant>-<random>-` prefix. */
async function localCopies(dir: string, name: string): Promise<{ prefix: string; of: string }[]> {
  const rest = name.slice(3);
  return (await fs.readdir(dir).catch(() => []))
    .map((f) => /^(\d{8}T\d{9}Z-[0-9a-f]{8})-((?:FO|CO|FS)\..*)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && m[2]!.slice(3).startsWith(rest))
    .map((m) => ({ prefix: m[1]!, of: m[2]!.slice(0, 2) }))
    .sort((a, b) => (a.of < b.of ? -1 : 1));
}

describe("a reply's signature companion (FS) is kept where its body is, and only there (real sshd)", () => {
  let ch: ReplyChannel;
  let trustStore: Awaited<ReturnType<ReplyChannel['trustStore']>>;
  /** Replies whose next download the wrapped session breaks (the connection drops in its middle). */
  const drop = new Set<string>();
  const openSession = async (...args: Parameters<typeof openSftpSession>): Promise<SftpSession> => {
    const real = await openSftpSession(...args);
    return {
      ...real,
      readStream(remote) {
        if (!drop.has(path.posix.basename(remote))) return real.readStream(remote);
        const broken = new PassThrough();
        setImmediate(() => broken.destroy(new Error('connection lost')));
        return broken;
      },
    };
  };

  beforeAll(async () => {
    ch = await createReplyChannel({ openSession });
    trustStore = await ch.trustStore();
  });
  afterAll(async () => ch?.close());

  it('keeps the companion of a reply applied beside its body, under the same prefix', async () => {
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    await ch.sign('OUTTEST', name);
    expect(outcomeOf(await ch.acks('T', { trustStore }), name)).toEqual({ name, result: 'processed' });
    const copies = await localCopies(ch.ackDeps.repliesDir, name);
    expect(copies.map((c) => c.of)).toEqual(['FO', 'FS']);
    expect(copies[0]!.prefix).toBe(copies[1]!.prefix);
    const row = (await ch.fx.db.pool.query('SELECT local_path FROM maillon.replies WHERE name = $1', [name])).rows[0];
    expect(path.basename(row.local_path)).toBe(`${copies[0]!.prefix}-${name}`);
  });

  it('moves the companion of a reply set aside with its body to set-aside/', async () => {
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    await ch.sign('OUTTEST', name);
    // Signed, and no trust store to believe it: set aside, its body kept.
    expect(outcomeOf(await ch.acks('T'), name)).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/is signed but no trust store is configured/) });
    expect(await localCopies(ch.ackDeps.repliesDir, name)).toEqual([]);
    const kept = await localCopies(path.join(ch.ackDeps.repliesDir, 'set-aside'), name);
    expect(kept.map((c) => c.of)).toEqual(['FO', 'FS']);
    expect(kept[0]!.prefix).toBe(kept[1]!.prefix);
  });

  it('removes the companion when its reply could not be downloaded, so that retries leave none behind', async () => {
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    await ch.sign('OUTTEST', name);
    drop.add(name);
    for (let pass = 1; pass <= 2; pass++) {
      expect(outcomeOf(await ch.acks('T', { trustStore }), name)).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/downloaded again on the next pass/) });
    }
    drop.clear();
    expect(await localCopies(ch.ackDeps.repliesDir, name)).toEqual([]);
    expect(await localCopies(path.join(ch.ackDeps.repliesDir, 'set-aside'), name)).toEqual([]);
    expect(outcomeOf(await ch.acks('T', { trustStore }), name)).toEqual({ name, result: 'processed' });
    expect((await localCopies(ch.ackDeps.repliesDir, name)).map((c) => c.of)).toEqual(['FO', 'FS']);
  });
});
