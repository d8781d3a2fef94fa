import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acrfBody, CHANNEL_CLOCK, createReplyChannel, type ReplyChannel } from '../helpers/replyChannel.js';

const MINUTE = 60_000;

describe('partial reply downloads left by a killed pass are removed by the next acks, never one still being written (real sshd)', () => {
  let ch: ReplyChannel;
  beforeAll(async () => {
    ch = await createReplyChannel();
  });
  afterAll(async () => ch?.close());

  /** A file in the replies folder, last written `minutesAgo` before the channel's clock. */
  const leave = async (name: string, minutesAgo: number): Promise<string> => {
    const file = path.join(ch.ackDeps.repliesDir, name);
    await fs.mkdir(ch.ackDeps.repliesDir, { recursive: true, mode: 0o700 });
    await fs.writeFile(file, '<?xml version="1.0"?><NOTI><Form><Anomalies><Anomaly><INSS>850730', { mode: 0o600 });
    const at = new Date(CHANNEL_CLOCK.now().getTime() - minutesAgo * MINUTE);
    await fs.utimes(file, at, at);
    return name;
  };

  it('removes the .part files not written for ten minutes, keeps recent ones and the kept replies, and reads the replies', async () => {
    const t = await ch.runAndSend('T');
    const reply = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    const killed = await leave('20261009T020000000Z-0a1b2c3d-FO.NOTI.999999.20261009.00007.T.part', 24 * 60);
    const justKilled = await leave('20261010T014900000Z-1a1b2c3d-FO.NOTI.999999.20261010.00008.T.part', 11);
    const writing = await leave('20261010T015930000Z-2a1b2c3d-CO.NOTI.999999.20261010.00009.T.part', 1);
    const kept = await leave('20261009T020000000Z-3a1b2c3d-FO.ACRF.999999.20261009.00006.T', 24 * 60);
    expect((await ch.acks('T')).find((o) => o.name === reply)).toEqual({ name: reply, result: 'processed' });
    const left = await fs.readdir(ch.ackDeps.repliesDir);
    expect(left).not.toContain(killed);
    expect(left).not.toContain(justKilled);
    expect(left).toContain(writing);
    expect(left).toContain(kept);
    expect(left.filter((f) => f.endsWith('.part'))).toEqual([writing]);
  });
});
