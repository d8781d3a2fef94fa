import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipOne } from '../../src/simulate/zipOne.js';
import type { ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { acrfBody, createReplyChannel, notiBody, type ReplyChannel } from '../helpers/replyChannel.js';

const outcomeOf = (outcomes: ReplyOutcome[], name: string): ReplyOutcome | undefined => outcomes.find((o) => o.name === name);

/**
 * Each hostile reply comes first in its pass, a genuine ACRF about a waiting submission after it:
 * the hostile one must be set aside with its reason, the genuine one applied in the same pass, and
 * the next pass must run clean (nothing wedged).
 */
describe('replies that cannot wedge the channel: each failure sets that reply aside and the loop goes on (real sshd, real PostgreSQL)', () => {
  let ch: ReplyChannel;
  beforeAll(async () => {
    ch = await createReplyChannel();
  });
  afterAll(async () => ch?.close());

  async function expectSetAsideThenGenuineApplied(put: (file: string) => Promise<string>, reason: RegExp): Promise<void> {
    const t = await ch.runAndSend('T');
    const hostile = await put(t.file);
    const genuine = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    const outcomes = await ch.acks('T');
    expect(outcomeOf(outcomes, hostile)).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(reason) });
    expect(outcomeOf(outcomes, genuine)?.result).toBe('processed');
    expect(await ch.stateOf(t.submissionId)).toBe('received');
    const again = await ch.acks('T');
    expect(again.filter((o) => o.result !== 'already-processed')).toEqual([]);
    const row = await ch.fx.db.pool.query('SELECT state, reason FROM maillon.replies WHERE name = $1', [hostile]);
    expect(row.rows[0]).toMatchObject({ state: 'set_aside', reason: expect.stringMatching(reason) });
  }

  /** Puts a reply as the channel does, then gives it (and its GO) another purpose or sender. */
  async function putRenamed(purpose: string, sender: string, body: string): Promise<string> {
    const name = await ch.put('OUTTEST', 'T', 'ACRF', body);
    const renamed = name.replace('.ACRF.999999.', `.${purpose}.${sender}.`);
    const go = `GO${name.slice(2)}.1`;
    await fs.rename(path.join(ch.sshd.root, 'OUTTEST', name), path.join(ch.sshd.root, 'OUTTEST', renamed));
    await fs.rename(path.join(ch.sshd.root, 'OUTTEST', go), path.join(ch.sshd.root, 'OUTTEST', `GO${renamed.slice(2)}.1`));
    return renamed;
  }

  it.each([
    [
      "of another purpose (another flow's data file)",
      'CARR',
      '999999',
      /^FO\.CARR\.999999\.\S+ is not a reply \(a reply is named FO\.ACRF or FO\.NOTI, from sender 999999\): its purpose is CARR, another flow's; it was not downloaded and stays on the server\.$/,
    ],
    [
      'from another sender than the channel operator',
      'ACRF',
      '012345',
      /^FO\.ACRF\.012345\.\S+ is not a reply \(a reply is named FO\.ACRF or FO\.NOTI, from sender 999999\): its sender is 012345; it was not downloaded and stays on the server\.$/,
    ],
  ])('sets aside, unread and left on the server, an FO file %s even when it holds an ACRF about our file', async (_what, purpose, sender, reason) => {
    let name = '';
    await expectSetAsideThenGenuineApplied(async (file) => (name = await putRenamed(purpose, sender, acrfBody(file, false))), reason);
    expect((await fs.readdir(ch.ackDeps.repliesDir, { recursive: true })).filter((f) => f.includes(name))).toEqual([]);
    await expect(fs.stat(path.join(ch.sshd.root, 'OUTTEST', name))).resolves.toBeTruthy();
  });

  it('sets aside a file whose name is no batch-channel name, masking a person number the name holds', async () => {
    const t = await ch.runAndSend('T');
    const name = await putRenamed('ACRF', '85073003328', acrfBody(t.file, false));
    const outcome = outcomeOf(await ch.acks('T'), name);
    expect(outcome?.result).toBe('set_aside');
    expect(outcome?.reason).toContain('85*******28');
    expect(outcome?.reason).not.toContain('85073003328');
    const row = await ch.fx.db.pool.query('SELECT reason FROM maillon.replies WHERE name = $1', [name]);
    expect(row.rows[0].reason).not.toContain('85073003328');
  });

  it.each([
    ['ACRF', 'a NOTI', (file: string) => notiBody(file, 3)],
    ['NOTI', 'an ACRF', (file: string) => acrfBody(file, false)],
  ] as const)('sets aside a reply named %s that holds %s, and applies nothing of it', async (purpose, holds, body) => {
    await expectSetAsideThenGenuineApplied(
      (file) => ch.put('OUTTEST', 'T', purpose, body(file)),
      new RegExp(`^The reply FO\\.${purpose}\\.999999\\.\\S+ is named ${purpose} but holds ${holds}; it changed nothing and was set aside\\.$`),
    );
  });

  it('sets aside a zipped reply whose entry is named ../ (yauzl rejects the name)', async () => {
    await expectSetAsideThenGenuineApplied(async (file) => {
      // yazl refuses to write such a name: write a safe one of the same length and change it in place.
      const zip = await zipOne('aaax.xml', acrfBody(file, false));
      const hostile = Buffer.from(zip.toString('latin1').replaceAll('aaax.xml', '../x.xml'), 'latin1');
      return ch.put('OUTTEST', 'T', 'ACRF', hostile, 'CO');
    }, /The zipped reply CO\.ACRF\..* is damaged or unsafe \(invalid relative path\); it was set aside\.$/);
  });

  it('sets aside a NOTI whose AttestationID is not a number (abc)', async () => {
    await expectSetAsideThenGenuineApplied(
      (file) => ch.put('OUTTEST', 'T', 'NOTI', notiBody(file, 2, [{ inss: '85073003328', attestationId: 'abc' }])),
      /gives anomaly 1 an AttestationID of 3 characters that is not a number of at most 18 digits/,
    );
  });

  it('sets aside a NOTI whose AttestationID does not fit a bigint (99999999999999999999999)', async () => {
    await expectSetAsideThenGenuineApplied(
      (file) =>
        ch.put(
          'OUTTEST',
          'T',
          'NOTI',
          notiBody(file, 2, [
            { inss: '85073003328', attestationId: '1' },
            { inss: '85073003328', attestationId: '99999999999999999999999' },
          ]),
        ),
      /gives anomaly 2 an AttestationID of 23 characters that is not a number of at most 18 digits/,
    );
  });

  it('sets aside a NOTI with a NUL byte in a field', async () => {
    await expectSetAsideThenGenuineApplied(
      (file) => ch.put('OUTTEST', 'T', 'NOTI', notiBody(file, 2, [{ inss: '85073003328', description: 'bad\u0000byte' }])),
      /is not well-formed XML \(.*disallowed character\.?\)/,
    );
  });

  it('sets aside a NOTI whose INSS is not 11 digits, without repeating it', async () => {
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 2, [{ inss: '8507300332812345' }]));
    const outcome = outcomeOf(await ch.acks('T'), name);
    expect(outcome).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/gives anomaly 1 an INSS that is not 11 digits/) });
    expect(outcome!.reason).not.toContain('85073003328');
  });

  it('sets aside a NOTI about a FileName holding an INSS, without repeating it (outcome and ledger)', async () => {
    await expectSetAsideThenGenuineApplied(
      () => ch.put('OUTTEST', 'T', 'NOTI', notiBody('FI.CARR.85073003328.T', 2)),
      /^The NOTI reply is about a FileName that is not a batch-channel file name, which is not a file we sent; it was set aside\.$/,
    );
  });

  it('sets aside a directory named like a reply', async () => {
    await expectSetAsideThenGenuineApplied(async () => {
      const name = await ch.put('OUTTEST', 'T', 'ACRF', '');
      const full = path.join(ch.sshd.root, 'OUTTEST', name);
      await fs.rm(full);
      await fs.mkdir(full);
      return name;
    }, /^It is a directory, not a regular file: not downloaded\.$/);
  });

  it('sets aside a symbolic link named like a reply, even one pointing at a genuine reply', async () => {
    await expectSetAsideThenGenuineApplied(async (file) => {
      const target = path.join(ch.sshd.root, 'genuine-elsewhere.xml');
      await fs.writeFile(target, acrfBody(file, false));
      const name = await ch.put('OUTTEST', 'T', 'ACRF', '');
      const full = path.join(ch.sshd.root, 'OUTTEST', name);
      await fs.rm(full);
      await fs.symlink(target, full);
      return name;
    }, /^It is a symbolic link, not a regular file: not downloaded\.$/);
  });

  it('sets aside a reply that is not UTF-8 text', async () => {
    await expectSetAsideThenGenuineApplied(
      (file) => ch.put('OUTTEST', 'T', 'ACRF', Buffer.concat([Buffer.from(acrfBody(file, false).slice(0, 60)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('</ACRF>')])),
      /is not UTF-8 text/,
    );
  });

  it('sets aside a reply with a text longer than any reply holds, without reading it whole', async () => {
    await expectSetAsideThenGenuineApplied(
      (file) => ch.put('OUTTEST', 'T', 'NOTI', notiBody(file, 2, [{ inss: '85073003328', description: 'x'.repeat(100_000) }])),
      /holds a text or tag of more than 65536 characters/,
    );
  });
});
