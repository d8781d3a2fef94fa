import fs from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import { fixedClock } from '../../src/clock/clock.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import { runPipeline, type RunResult } from '../../src/engine/runPipeline.js';
import { importFolder } from '../../src/import/importFolder.js';
import { createLogger } from '../../src/log/logger.js';
import { parsePeriod } from '../../src/period/period.js';
import { buildReport } from '../../src/reconcile/report.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { simulateReceiver } from '../../src/simulate/simulateReceiver.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { ingestReplies } from '../../src/ack/ingestReplies.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, DOSSIER_2024, type FlowFixture } from '../helpers/flowFixture.js';
import { runDeps } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

const NOW = '2025-01-10T02:00:00+01:00';
const parser = new XMLParser({ parseTagValue: false, isArray: (n) => ['Attestation', 'PaidFor'].includes(n) });

/** The dossier of 2024 with a payment added (D01), an affiliate removed (D06) and a name corrected (D03). */
async function changedDossier(dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  for (const f of await fs.readdir(DOSSIER_2024)) {
    const lines = (await fs.readFile(path.join(DOSSIER_2024, f), 'utf8')).split('\n').filter((l) => !/^(D06,|[^,]*,D06,)/.test(l));
    let text = lines.join('\n');
    if (f === 'affiliates.csv') text = text.replace('D03,03051212332,Peeters,', 'D03,03051212332,Peeters-Janssens,');
    if (f === 'payments.csv') text = text.replace(/\n*$/, '\nQ01-9,D01,K01-242,payment,1000,2024-07-01,\n');
    await fs.writeFile(path.join(dir, f), text);
  }
  return dir;
}

describe('reruns with corrections (tax-attestations 2024)', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let original: RunResult;
  const clock = fixedClock(NOW);
  const deps = () => runDeps(fx.db.pool, fx.outbox, NOW);
  const request = { pipeline: taxAttestations, period: parsePeriod('2024'), environment: 'T' as const, sender: '012345', asOf: new Date(NOW) };
  let receivers: string;
  const deliverAndAnswer = async () => {
    const endpoints = loadEndpoints(receivers);
    await sendSubmissions({ ledger: fx.db.pool, clock, logger: createLogger('silent'), endpoints, passphrase: () => undefined, backoffMs: 10 });
    const pass = await simulateReceiver({ root: sshd.root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock });
    await ingestReplies(
      { ledger: fx.db.pool, clock, logger: createLogger('silent'), endpoints, passphrase: () => undefined, repliesDir: path.join(path.dirname(fx.outbox), 'replies'), maxReplyBytes: 1_000_000 },
      'T',
    );
    return pass;
  };

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture();
    receivers = await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers.json'));
    original = await runPipeline(deps(), { ...request, dryRun: false });
    await deliverAndAnswer();
    await importFolder(fx.db.pool, await changedDossier(path.join(path.dirname(fx.outbox), 'changed')));
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('plans exactly the changes: a payment added and a name corrected (replacements), an affiliate removed (cancellation)', async () => {
    const dry = await runPipeline(deps(), { ...request, dryRun: true, correction: { reason: 'payment found late', full: false } });
    expect(dry.plan).toMatchObject({ added: [], changed: ['D01', 'D03'], vanished: ['D06'], unchanged: 2, previousRunId: original.runId, kind: 'correction' });
    expect(dry.files).toEqual([]);
  });

  it('sends a correction file with exactly those records and statuses, which the receiver accepts', async () => {
    const fix = await runPipeline(deps(), { ...request, dryRun: false, correction: { reason: 'payment found late', full: false } });
    expect(fix.counts).toEqual({ extracted: 5, emitted: 3, quarantined: 1, unchanged: 2, cancelled: 1 });
    const before = new Map<string, any>(parser.parse(await fs.readFile(original.files[0]!.path, 'utf8')).ATTF.Attestation.map((a: any) => [a.INSS, a]));
    const after = parser.parse(await fs.readFile(fix.files[0]!.path, 'utf8')).ATTF.Attestation as any[];
    const summary = after.map((a) => [a.INSS, a.AttestationIdentification.AttestationStatus, a.AttestationIdentification.AttestationID === before.get(a.INSS).AttestationIdentification.AttestationID]);
    expect(summary).toEqual([
      ['85073003328', '2', true], // D01: amount 348684 + 1000
      ['03051212332', '2', true], // D03: new name
      ['90031518119', '1', true], // D06: cancelled
    ]);
    expect(after[0].Amount).toBe('349684');
    expect(after[1].Person.LastName).toBe('Peeters-Janssens');
    const run = await fx.db.pool.query('SELECT kind, reason, previous_run_id, started_by FROM maillon.runs WHERE run_id = $1', [fix.runId]);
    expect(run.rows[0]).toMatchObject({ kind: 'correction', reason: 'payment found late', previous_run_id: String(original.runId), started_by: expect.any(String) });
    const pass = await deliverAndAnswer();
    expect(pass.replies).toHaveLength(2);
    const report = await buildReport(fx.db.pool, taxAttestations, '2024', 'T', new Date(NOW));
    expect(report.runId).toBe(fix.runId);
    expect(report.delivery.records).toEqual({ accepted: 3, acceptedWithAnomalies: 0, rejected: 0, pending: 0, cancelled: 0, answeredAfterCancel: 0, acceptedAfterReject: 0 });
    expect(report.checks.every((c) => c.ok)).toBe(true);
  });

  it('an unchanged rerun sends nothing and says so; without a terminal it needs --yes', async () => {
    const env = { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox), MAILLON_OUTBOX: fx.outbox, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_NOW: NOW };
    const same = await maillon(['rerun', 'tax-attestations', '--period', '2024', '--reason', 'check', '--as-of', NOW], env);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/identical to what was sent \(run #\d+\): nothing sent/);
    const full = await maillon(['rerun', 'tax-attestations', '--period', '2024', '--reason', 'resend all', '--as-of', NOW, '--full'], env);
    expect(full.code).toBe(2);
    expect(full.stderr).toContain('--yes');
  });
});
