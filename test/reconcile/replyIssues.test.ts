import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { buildReport } from '../../src/reconcile/report.js';
import { reportToCsv } from '../../src/reconcile/reportCsv.js';
import { reportToHtml } from '../../src/reconcile/reportHtml.js';
import { acrfBody, CHANNEL_CLOCK, createReplyChannel, notiBody, type ReplyChannel } from '../helpers/replyChannel.js';

describe('the report lists the replies about its period that were set aside or not believed', () => {
  let ch: ReplyChannel;
  beforeAll(async () => {
    ch = await createReplyChannel();
  });
  afterAll(async () => ch?.close());

  it('in JSON, CSV and HTML, with name, state, file, reason and time; replies about other periods or environments stay out', async () => {
    const t = await ch.runAndSend('T');
    const r = await ch.runAndSend('R');
    // The receiver signs its replies (a production one must be signed to be believed).
    await ch.simulate({ signer: await ch.signer() });
    await ch.acks('T', { trustStore: await ch.trustStore() });
    // A contradiction (read, not believed), a signed reply that cannot be verified (set aside, its file known),
    // a reply in OUT about this T file, and a reply about the R file (another report).
    const second = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 3));
    const signed = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    await fs.writeFile(path.join(ch.sshd.root, 'OUTTEST', `FS${signed.slice(2)}.1.1`), 'MIIB');
    const aboutT = await ch.put('OUT', 'R', 'NOTI', notiBody(t.file, 1));
    const aboutR = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(r.file, true));
    await ch.acks('T');
    await ch.sign('OUT', aboutT); // a production reply must be signed to be judged by the rules
    await ch.acks('R', { trustStore: await ch.trustStore() });

    const report = await buildReport(ch.fx.db.pool, career, t.period, 'T', CHANNEL_CLOCK.now());
    const at = CHANNEL_CLOCK.now().toISOString();
    expect(report.replyIssues).toEqual([
      { name: second, state: 'conflict', file: t.file, reason: expect.stringMatching(/^Contradiction: this NOTI says rejected/), receivedAt: at },
      { name: signed, state: 'set_aside', file: t.file, reason: expect.stringMatching(/is signed but no trust store is configured/), receivedAt: at },
      { name: aboutT, state: 'conflict', file: t.file, reason: expect.stringMatching(/^Environments disagree: its name says environment R but the file it names/), receivedAt: at },
    ]);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    const rReport = await buildReport(ch.fx.db.pool, career, r.period, 'R', CHANNEL_CLOCK.now());
    expect(rReport.replyIssues.map((i) => i.name)).toEqual([aboutR]);

    const rows: string[][] = parse(await reportToCsv(report));
    expect(rows.filter((row) => row[0] === 'reply')).toEqual(report.replyIssues.map((i) => ['reply', i.name, i.state, `${i.receivedAt} about ${i.file}: ${i.reason}`]));
    const html = await reportToHtml(report);
    expect(html).toContain('<h2>Replies set aside or not believed</h2>');
    expect(html).toContain(`<tr><td>${second}</td><td>conflict (not believed)</td><td>${at}</td><td>${t.file}</td>`);
    expect(html).toContain(`<tr><td>${signed}</td><td>set aside</td>`);
  });
});
