import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import { ingestReplies } from '../../src/ack/ingestReplies.js';
import { fixedClock } from '../../src/clock/clock.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import { runPipeline, type RunResult } from '../../src/engine/runPipeline.js';
import { importFolder } from '../../src/import/importFolder.js';
import { createLogger } from '../../src/log/logger.js';
import { parsePeriod } from '../../src/period/period.js';
import { buildReport } from '../../src/reconcile/report.js';
import { reportToCsv } from '../../src/reconcile/reportCsv.js';
import { reportToHtml } from '../../src/reconcile/reportHtml.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { simulateReceiver } from '../../src/simulate/simulateReceiver.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { createFlowFixture, DOSSIER_2024, type FlowFixture } from '../helpers/flowFixture.js';
import { runDeps } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

const NOW = '2025-01-10T02:00:00+01:00';

/** The dossier of 2024 with an affiliate removed (D06) and a name corrected (D03). */
async function changedDossier(dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  for (const f of await fs.readdir(DOSSIER_2024)) {
    const lines = (await fs.readFile(path.join(DOSSIER_2024, f), 'utf8')).split('\n').filter((l) => !/^(D06,|[^,]*,D06,)/.test(l));
    let text = lines.join('\n');
    if (f === 'affiliates.csv') text = text.replace('D03,03051212332,Peeters,', 'D03,03051212332,Peeters-Janssens,');
    await fs.writeFile(path.join(dir, f), text);
  }
  return dir;
}

// Issue 22: the report showed "Every record is accounted for." while a file was still written with
// its records pending, and after a correction only the correction's file: the original one the
// receiver holds was no longer visible.
describe("a period's whole story in the report (tax-attestations 2024)", () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let original: RunResult;
  let correction: RunResult;
  let receivers: string;
  const clock = fixedClock(NOW);
  const deps = () => runDeps(fx.db.pool, fx.outbox, NOW);
  const request = { pipeline: taxAttestations, period: parsePeriod('2024'), environment: 'T' as const, sender: '012345', asOf: new Date(NOW) };
  const report = () => buildReport(fx.db.pool, taxAttestations, '2024', 'T', new Date(NOW));
  const deliverAndAnswer = async (): Promise<void> => {
    const endpoints = loadEndpoints(receivers);
    await sendSubmissions({ ledger: fx.db.pool, clock, logger: createLogger('silent'), endpoints, passphrase: () => undefined, backoffMs: 10 });
    await simulateReceiver({ root: sshd.root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock });
    await ingestReplies(
      { ledger: fx.db.pool, clock, logger: createLogger('silent'), endpoints, passphrase: () => undefined, repliesDir: path.join(path.dirname(fx.outbox), 'replies'), maxReplyBytes: 1_000_000 },
      'T',
    );
  };

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture();
    receivers = await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers.json'));
    original = await runPipeline(deps(), { ...request, dryRun: false });
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('does not say every record is accounted for while the file is written and its records pending', async () => {
    const r = await report();
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.pendingRecords).toBe(original.counts.emitted);
    expect(r.accountedFor).toBe(false);
    const html = await reportToHtml(r);
    expect(html).not.toContain('Every record is accounted for.');
    expect(html).toMatch(/<p class="waiting" id="verdict">\d+ record\(s\) still wait/);
    await deliverAndAnswer();
    const done = await report();
    expect(done.pendingRecords).toBe(0);
    expect(done.accountedFor).toBe(true);
    expect(await reportToHtml(done)).toContain('<p class="ok" id="verdict">Every record is accounted for.</p>');
  });

  it('keeps the original file visible after a correction, with who ran each version and why, and what the receiver holds', async () => {
    await importFolder(fx.db.pool, await changedDossier(path.join(path.dirname(fx.outbox), 'changed')));
    correction = await runPipeline(deps(), { ...request, dryRun: false, correction: { reason: 'name corrected', full: false } });
    const r = await report();
    expect(r.runId).toBe(correction.runId);
    expect(r.versions.map((v) => [v.runId, v.kind, v.reason, v.previousRunId])).toEqual([
      [original.runId, 'original', null, null],
      [correction.runId, 'correction', 'name corrected', original.runId],
    ]);
    expect(r.versions.every((v) => v.startedBy.length > 0)).toBe(true);
    const [first, second] = r.versions;
    expect(first!.files.map((f) => [f.name, f.state, f.records])).toEqual(original.files.map((f) => [path.basename(f.path), 'accepted', original.counts.emitted]));
    expect(first!.records).toMatchObject({ accepted: original.counts.emitted, pending: 0 });
    expect(second!.counts).toMatchObject({ emitted: correction.counts.emitted, cancelled: 1 });
    expect(second!.files.map((f) => [f.state, f.submissionKind])).toEqual([['written', 'correction']]);
    expect(r.pendingRecords).toBe(correction.counts.emitted);
    expect(r.accountedFor).toBe(false);
    const held = r.receivers.holds.flatMap((h) => h.files.map((f) => [f.runId, f.kind, f.state]));
    expect(held).toEqual([
      [original.runId, 'original', 'accepted'],
      [correction.runId, 'correction', 'written'],
    ]);
    const html = await reportToHtml(r);
    for (const f of [...first!.files, ...second!.files]) expect(html).toContain(f.name);
    expect(html).toContain('name corrected');
    expect(await reportToCsv(r)).toContain(`version,#${original.runId},original,`);

    await deliverAndAnswer();
    const done = await report();
    expect(done.versions[1]!.files[0]!.state).toBe('accepted');
    expect(done.accountedFor).toBe(true);
  });
});
