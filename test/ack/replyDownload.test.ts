import { lstatSync, readdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AckDeps, ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { openSftpSession, type SftpSession } from '../../src/transport/sftpSession.js';
import { acrfBody, CHANNEL_CLOCK, createReplyChannel, notiBody, type ReplyChannel } from '../helpers/replyChannel.js';
import { writeReceiversFile } from '../helpers/sshd.js';

const outcomeOf = (outcomes: ReplyOutcome[], name: string): ReplyOutcome | undefined => outcomes.find((o) => o.name === name);

/** The same, at once (taken while a download runs, before its file can go away). */
function modesNow(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out = [{ path: dir, dir: true, mode: statSync(dir).mode & 0o777 }];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    out.push({ path: p, dir: e.isDirectory(), mode: lstatSync(p).mode & 0o777 });
  }
  return out;
}

/** Every file and folder under `dir` with its permission bits. */
async function modes(dir: string): Promise<{ path: string; dir: boolean; mode: number }[]> {
  const out = [{ path: dir, dir: true, mode: (await fs.stat(dir)).mode & 0o777 }];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    out.push({ path: p, dir: e.isDirectory(), mode: (await fs.lstat(p)).mode & 0o777 });
  }
  return out;
}

/** A NOTI of about 700 kB (7,000 non-blocking remarks about no record), so that a download is cut in its middle. */
const bigNoti = (file: string): string =>
  notiBody(
    file,
    1,
    Array.from({ length: 7000 }, () => ({ description: 'x'.repeat(20) })),
  );

/**
 * The same bytes, each chunk held `ms` first: a slow link. A real sshd on loopback cannot be made
 * to send slowly but steadily (pausing it stalls it outright), so this one fault is simulated.
 */
function throttled(source: Readable, ms: number): Readable {
  const slow = new Transform({
    transform(chunk: Buffer, _enc, done) {
      setTimeout(() => done(null, chunk), ms);
    },
  });
  source.on('error', (err) => slow.destroy(err));
  slow.on('close', () => source.destroy());
  return source.pipe(slow);
}

describe('downloads of replies: bounded while they run, nothing partial left, nothing readable by others (real sshd)', () => {
  let ch: ReplyChannel;
  let umask: number;
  /** What the wrapped sessions do to the next download of a reply of this name. */
  const faults = new Map<string, 'drop' | 'stall' | 'slow'>();
  /** Grows a listed file on the server right after the listing. */
  const grow = new Map<string, number>();
  const seenWhileDownloading: { path: string; dir: boolean; mode: number }[][] = [];
  /** How long a slow link holds each chunk, ms. */
  let slowChunkMs = 0;

  const openSession = async (...args: Parameters<typeof openSftpSession>): Promise<SftpSession> => {
    const real = await openSftpSession(...args);
    return {
      ...real,
      async list(dir) {
        const entries = await real.list(dir);
        for (const [name, size] of grow) await fs.truncate(path.join(ch.sshd.root, 'OUTTEST', name), size);
        return entries;
      },
      readStream(remote) {
        const stream = real.readStream(remote);
        const fault = faults.get(path.posix.basename(remote));
        if (fault === 'slow') return throttled(stream, slowChunkMs);
        if (fault) {
          // At the first chunk that finds the partial file on disk (its opening may lag the first bytes).
          const strike = (): void => {
            const seen = modesNow(ch.ackDeps.repliesDir);
            if (!seen.some((e) => e.path.endsWith('.part'))) return;
            stream.off('data', strike);
            seenWhileDownloading.push(seen);
            if (fault === 'drop') ch.sshd.dropConnections();
            else ch.sshd.stallConnections();
          };
          stream.on('data', strike);
        }
        return stream;
      },
      async close() {
        // A stalled server never answers the goodbye: end its processes first.
        if ([...faults.values()].includes('stall')) ch.sshd.dropConnections();
        await real.close();
      },
    };
  };

  beforeAll(async () => {
    // Nothing here may rely on the umask: every file is created 0600 and every folder 0700.
    umask = process.umask(0);
    ch = await createReplyChannel({ openSession });
    await fs.mkdir(ch.ackDeps.repliesDir, { mode: 0o755 });
    await fs.chmod(ch.ackDeps.repliesDir, 0o755);
  });
  afterAll(async () => {
    process.umask(umask);
    await ch?.close();
  });

  it('cuts a reply that grows past MAILLON_MAX_REPLY_BYTES after it was listed, and keeps none of it', async () => {
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    grow.set(name, 3 * ch.ackDeps.maxReplyBytes);
    const outcomes = await ch.acks('T');
    grow.clear();
    expect(outcomeOf(outcomes, name)).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/grew past the limit of 1000000 bytes while it was downloaded .*the transfer was cut/) });
    expect(await ch.stateOf(t.submissionId)).toBe('sent');
    const row = (await ch.fx.db.pool.query('SELECT state, bytes, local_path FROM maillon.replies WHERE name = $1', [name])).rows[0];
    expect(row).toEqual({ state: 'set_aside', bytes: null, local_path: null });
    expect((await modes(ch.ackDeps.repliesDir)).filter((e) => e.path.includes(name))).toEqual([]);
  });

  it('sets aside for now a download that fails half way (the server drops the connection), leaves no partial file, reads the next reply, and reads it whole on the next pass', async () => {
    const t = await ch.runAndSend('T');
    const noti = await ch.put('OUTTEST', 'T', 'NOTI', bigNoti(t.file));
    const acrf = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    faults.set(noti, 'drop');
    const first = await ch.acks('T');
    faults.clear();
    expect(outcomeOf(first, noti)).toMatchObject({
      result: 'set_aside',
      reason: expect.stringMatching(/The download of .* failed after \d+ bytes.*It will be downloaded again on the next pass \(failure 1 of 3\)/),
    });
    expect(outcomeOf(first, acrf)?.result).toBe('processed');
    expect((await modes(ch.ackDeps.repliesDir)).filter((e) => e.path.includes(noti))).toEqual([]);
    expect(await ch.stateOf(t.submissionId)).toBe('received');

    const second = await ch.acks('T');
    expect(outcomeOf(second, noti)?.result).toBe('processed');
    expect(await ch.stateOf(t.submissionId)).toBe('accepted');
    const row = (await ch.fx.db.pool.query('SELECT state, attempts, bytes FROM maillon.replies WHERE name = $1', [noti])).rows[0];
    expect(row).toEqual({ state: 'processed', attempts: null, bytes: String(Buffer.byteLength(bigNoti(t.file))) });
  });

  it('gives a reply whose download keeps failing up after three attempts', async () => {
    const t = await ch.runAndSend('T');
    const noti = await ch.put('OUTTEST', 'T', 'NOTI', bigNoti(t.file));
    faults.set(noti, 'drop');
    const reasons = [];
    for (let pass = 0; pass < 4; pass++) reasons.push(outcomeOf(await ch.acks('T'), noti));
    faults.clear();
    expect(reasons.map((o) => o?.reason?.replace(/^.*(failure \d of 3|Given up after \d failed downloads).*$/, '$1'))).toEqual([
      'failure 1 of 3',
      'failure 2 of 3',
      'Given up after 3 failed downloads',
      undefined,
    ]);
    expect(reasons[3]).toEqual({ name: noti, result: 'already-processed' });
    expect(await ch.stateOf(t.submissionId)).toBe('sent');
  });

  it('removes what a timed-out download had written (a server that hangs half way)', async () => {
    const t = await ch.runAndSend('T');
    const noti = await ch.put('OUTTEST', 'T', 'NOTI', bigNoti(t.file));
    const endpoints = loadEndpoints(await writeReceiversFile(ch.sshd, path.join(path.dirname(ch.fx.outbox), 'receivers-1500ms.json'), { timeoutMs: 1500 }));
    faults.set(noti, 'stall');
    const outcomes = await ch.acks('T', { endpoints } satisfies Partial<AckDeps>);
    faults.clear();
    expect(outcomeOf(outcomes, noti)).toMatchObject({
      result: 'set_aside',
      reason: expect.stringMatching(/^No progress for 1500 ms: download of .* \(\d+ bytes received\)\. It will be downloaded again/),
    });
    expect((await modes(ch.ackDeps.repliesDir)).filter((e) => e.path.includes(noti))).toEqual([]);
    expect(outcomeOf(await ch.acks('T'), noti)?.result).toBe('processed');
  });

  it('reads a reply whose download takes several times the timeout in all but never stops moving', async () => {
    const t = await ch.runAndSend('T');
    const noti = await ch.put('OUTTEST', 'T', 'NOTI', bigNoti(t.file));
    const endpoints = loadEndpoints(await writeReceiversFile(ch.sshd, path.join(path.dirname(ch.fx.outbox), 'receivers-1000ms.json'), { timeoutMs: 1000 }));
    slowChunkMs = 200;
    faults.set(noti, 'slow');
    const started = performance.now();
    const outcomes = await ch.acks('T', { endpoints } satisfies Partial<AckDeps>);
    const took = performance.now() - started;
    faults.clear();
    expect(took).toBeGreaterThan(2 * 1000);
    expect(outcomeOf(outcomes, noti)).toEqual({ name: noti, result: 'processed' });
    expect(await ch.stateOf(t.submissionId)).toBe('accepted');
  });

  it('keeps every reply 0600 in 0700 folders, created so from the start (umask 0), and names them by the clock', async () => {
    expect(seenWhileDownloading.length).toBeGreaterThan(0);
    for (const seen of seenWhileDownloading) {
      for (const e of seen) expect(e.mode, e.path).toBe(e.dir ? 0o700 : 0o600);
    }
    const now = await modes(ch.ackDeps.repliesDir);
    expect(now.filter((e) => !e.dir).length).toBeGreaterThanOrEqual(3);
    for (const e of now) expect(e.mode, e.path).toBe(e.dir ? 0o700 : 0o600);
    const stamp = CHANNEL_CLOCK.now().toISOString().replace(/[-:.]/g, '');
    const paths = (await ch.fx.db.pool.query(`SELECT local_path FROM maillon.replies WHERE local_path IS NOT NULL`)).rows.map((r) => path.basename(r.local_path));
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) expect(p).toMatch(new RegExp(`^${stamp}-[0-9a-f]{8}-(FO|CO|FS)\\.`));
  });
});
