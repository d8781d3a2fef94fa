import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { type AckDeps, ingestReplies } from '../../src/ack/ingestReplies.js';
import { fixedClock } from '../../src/clock/clock.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import { createLogger } from '../../src/log/logger.js';
import { buildReport } from '../../src/reconcile/report.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { simulateReceiver } from '../../src/simulate/simulateReceiver.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { cancelSubmission } from '../../src/transport/cancelSubmission.js';
import { sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

const clock = fixedClock('2026-10-10T04:00:00+02:00');

describe('send → receiver → ACRF/NOTI → reconciliation, over a real OpenSSH server', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let ackDeps: AckDeps;
  let sendDeps: Parameters<typeof sendSubmissions>[0];
  const outtest = (): string => path.join(sshd.root, 'OUTTEST');

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    const file = await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers.json'));
    const endpoints = loadEndpoints(file);
    const logger = createLogger('silent');
    sendDeps = { ledger: fx.db.pool, clock, logger, endpoints, passphrase: () => undefined, backoffMs: 10 };
    ackDeps = { ledger: fx.db.pool, clock, logger, endpoints, passphrase: () => undefined, repliesDir: path.join(path.dirname(fx.outbox), 'replies'), maxReplyBytes: 1_000_000 };
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('reports every record accepted except those the receiver refused, mapped back to their affiliates', async () => {
    await fx.run(career, '2026-Q3');
    expect((await sendSubmissions(sendDeps))[0]!.result).toBe('sent');
    const pass = await simulateReceiver({
      root: sshd.root,
      schemasDir: SCHEMAS_DIR,
      validator: createXsdValidator(undefined),
      clock,
      rejectInss: new Set(['85073003328']),
      warnInss: new Set(['03051212332']),
    });
    expect(pass.replies).toEqual(['FO.ACRF.999999.20261010.00001.T', 'FO.NOTI.999999.20261010.00002.T']);
    const outcomes = await ingestReplies(ackDeps, 'T');
    expect(outcomes.map((o) => o.result)).toEqual(['processed', 'processed']);
    const report = await buildReport(fx.db.pool, career, '2026-Q3', 'T', clock.now());
    expect(report.delivery.records).toEqual({ accepted: 6, acceptedWithAnomalies: 1, rejected: 1, pending: 0, cancelled: 0, answeredAfterCancel: 0, acceptedAfterReject: 0 });
    expect(report.delivery.recordIssues.map((i) => [i.sourceKey, i.state, i.codes])).toEqual([
      ['A001', 'rejected', 'B0042'],
      ['A002', 'accepted_with_anomalies', 'N0007'],
    ]);
    expect(report.delivery.files[0]).toMatchObject({ state: 'accepted_with_anomalies', ack: 'received', noti: 'accepted_with_anomalies', overdue: false });
    expect(report.checks.every((c) => c.ok)).toBe(true);
    // Reading the same replies again changes nothing.
    expect((await ingestReplies(ackDeps, 'T')).map((o) => o.result)).toEqual(['already-processed', 'already-processed']);
    expect((await buildReport(fx.db.pool, career, '2026-Q3', 'T', clock.now())).delivery).toEqual(report.delivery);
  });

  it('handles zipped CO replies and a negative ACRF', async () => {
    const run = await fx.run(career, '2026-Q2');
    await sendSubmissions(sendDeps);
    await simulateReceiver({
      root: sshd.root,
      schemasDir: SCHEMAS_DIR,
      validator: createXsdValidator(undefined),
      clock,
      zipAbove: 0,
      rejectFiles: new Set([run.files[0]!.name]),
    });
    const outcomes = await ingestReplies(ackDeps, 'T');
    expect(outcomes.filter((o) => o.result === 'processed').map((o) => o.name)).toEqual(['CO.ACRF.999999.20261010.00003.T']);
    const state = await fx.db.pool.query('SELECT state FROM maillon.submissions WHERE run_id = $1', [run.runId]);
    expect(state.rows[0].state).toBe('rejected');
  });

  it('cancels a sent submission whose GO is still waiting (TD), and refuses once the receiver took it', async () => {
    const deps = { ledger: fx.db.pool, clock, logger: createLogger('silent'), endpoints: sendDeps.endpoints, passphrase: () => undefined };
    const waiting = await fx.run(career, '2026-Q1');
    await sendSubmissions(sendDeps);
    const id = Number((await fx.db.pool.query('SELECT submission_id FROM maillon.submissions WHERE run_id = $1', [waiting.runId])).rows[0].submission_id);
    expect(await cancelSubmission(deps, id)).toBe('td-written');
    const td = `TD${waiting.files[0]!.name.slice(2, -2)}`;
    expect(await fs.readdir(path.join(sshd.root, 'IN'))).toContain(td);
    const pass = await simulateReceiver({ root: sshd.root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock });
    expect(pass).toEqual({ submissions: [], replies: [] });
    expect(await fs.readdir(path.join(sshd.root, 'IN', '.cancelled'))).toContain(td);
    const taken = await fx.run(career, '2025-Q4');
    await sendSubmissions(sendDeps);
    await simulateReceiver({ root: sshd.root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock });
    const takenId = Number((await fx.db.pool.query('SELECT submission_id FROM maillon.submissions WHERE run_id = $1', [taken.runId])).rows[0].submission_id);
    await expect(cancelSubmission(deps, takenId)).rejects.toThrow(/has already taken GO\..* cannot be cancelled any more/);
    await ingestReplies(ackDeps, 'T');
    await expect(cancelSubmission(deps, takenId)).rejects.toThrow(/is accepted: the receiver has already processed it/);
    const fresh = await fx.run(career, '2025-Q3');
    const freshId = Number((await fx.db.pool.query('SELECT submission_id FROM maillon.submissions WHERE run_id = $1', [fresh.runId])).rows[0].submission_id);
    expect(await cancelSubmission(deps, freshId)).toBe('cancelled-locally');
    expect(await sendSubmissions(sendDeps)).toEqual([]);
  });

  it('sets aside hostile, oversized, unknown and malformed replies without believing them', async () => {
    const put = async (name: string, body: string | null, withGo = true): Promise<void> => {
      if (body !== null) await fs.writeFile(path.join(outtest(), name), body);
      if (withGo) await fs.writeFile(path.join(outtest(), `GO${name.slice(2)}.1`), '');
    };
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><ACRF>&lol2;</ACRF>';
    const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><ACRF><Form>&x;</Form></ACRF>';
    await put('FO.ACRF.999999.20261010.00090.T', bomb);
    await put('FO.ACRF.999999.20261010.00091.T', xxe);
    await put('FO.NOTI.999999.20261010.00092.T', '<NOTI><Form>not closed');
    await put(
      'FO.ACRF.999999.20261010.00093.T',
      '<ACRF><Form><Identification>ACRF001</Identification><FileReference><FileName>FI.CARR.012345.20261010.99999.T.1.1</FileName></FileReference><ReceptionResult><ResultCode>1</ResultCode></ReceptionResult></Form></ACRF>',
    );
    await put('FO.ACRF.999999.20261010.00094.T', null);
    await fs.truncate(path.join(outtest(), 'FO.ACRF.999999.20261010.00094.T'), 200 * 1024 * 1024).catch(async () => {
      await fs.writeFile(path.join(outtest(), 'FO.ACRF.999999.20261010.00094.T'), '');
      await fs.truncate(path.join(outtest(), 'FO.ACRF.999999.20261010.00094.T'), 200 * 1024 * 1024);
    });
    await fs.writeFile(path.join(outtest(), '..FO.ACRF.999999.20261010.00095.T'), 'x');
    await fs.writeFile(path.join(outtest(), 'FO.ACRF.999999.20261010.00096.T\\..\\..\\etc'), 'x');
    const before = await fx.db.pool.query('SELECT submission_id, state FROM maillon.submissions ORDER BY 1');
    const outcomes = await ingestReplies(ackDeps, 'T');
    const aside = Object.fromEntries(outcomes.filter((o) => o.result === 'set_aside').map((o) => [o.name, o.reason]));
    expect(aside['FO.ACRF.999999.20261010.00090.T']).toMatch(/DTD or entity declaration/);
    expect(aside['FO.ACRF.999999.20261010.00091.T']).toMatch(/DTD or entity declaration/);
    expect(aside['FO.NOTI.999999.20261010.00092.T']).toMatch(/not well-formed|expected layout/);
    expect(aside['FO.ACRF.999999.20261010.00093.T']).toMatch(/not a file we sent/);
    expect(aside['FO.ACRF.999999.20261010.00094.T']).toMatch(/209715200 bytes, over the limit/);
    expect(aside['..FO.ACRF.999999.20261010.00095.T']).toMatch(/not a batch-channel file name/);
    expect(aside['FO.ACRF.999999.20261010.00096.T\\..\\..\\etc']).toMatch(/not a batch-channel file name/);
    expect((await fx.db.pool.query('SELECT submission_id, state FROM maillon.submissions ORDER BY 1')).rows).toEqual(before.rows);
    const kept = await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.replies WHERE state = 'set_aside'`);
    expect(kept.rows[0].n).toBe(7);
    // The bodies that were read are kept for inspection, outside the reply folder.
    expect((await fs.readdir(path.join(ackDeps.repliesDir, 'set-aside'))).length).toBe(4);
    expect((await ingestReplies(ackDeps, 'T')).filter((o) => o.result === 'set_aside')).toEqual([]);
  });
});
