import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import { withTransaction } from '../../src/db/database.js';
import { verifyChain } from '../../src/ledger/events.js';
import { createOutcomeWriter } from '../../src/ledger/outcomeWriter.js';
import { createLogger } from '../../src/log/logger.js';
import { startStatusServer } from '../../src/status/statusServer.js';
import { parseTraceQuery, readTrace } from '../../src/trace/readTrace.js';
import { traceToHtml } from '../../src/trace/traceHtml.js';
import { traceRecord } from '../../src/trace/traceRecord.js';
import { traceToText } from '../../src/trace/traceText.js';
import { applyTestReply } from '../helpers/applyTestReply.js';
import { renderedDom } from '../helpers/browser.js';
import { maillon, spawnMaillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';

const AT = new Date('2025-01-11T10:00:00Z');

describe("maillon trace: a record's trail across flows and periods", () => {
  let fx: FlowFixture;
  let inss: string;
  let slipsFile: string;
  let env: Record<string, string>;
  const sources = () => ({ ledger: fx.db.pool, dossier: fx.db.pool });

  beforeAll(async () => {
    fx = await createFlowFixture();
    const slips = await fx.run(contributionSlips, '2024-Q1');
    await fx.run(taxAttestations, '2024');
    inss = (await fx.db.pool.query<{ inss: string }>(`SELECT inss FROM dossier.affiliates WHERE affiliate_id = 'D01'`)).rows[0]!.inss;
    // The receiver of D01's contribution slip answers with a blocking anomaly about D01.
    const d01 = await fx.db.pool.query(
      `SELECT f.name, f.submission_id, o.attestation_id FROM maillon.record_outcomes o JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
       WHERE o.run_id = $1 AND o.source_key = 'D01' AND o.outcome = 'emitted'`,
      [slips.runId],
    );
    slipsFile = d01.rows[0].name;
    await fx.db.pool.query('UPDATE maillon.submissions SET go_started_at = $2 WHERE submission_id = $1', [d01.rows[0].submission_id, AT]);
    await withTransaction(fx.db.pool, (tx) =>
      applyTestReply(tx, 'FO.NOTI.TRACE', AT, {
        kind: 'NOTI',
        fileName: slipsFile,
        result: 'accepted_with_anomalies',
        anomalies: [{ inss, attestationId: String(d01.rows[0].attestation_id), blocking: true, code: '00042', description: `unknown person ${inss}` }],
      }),
    );
    env = { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox), MAILLON_OUTBOX: fx.outbox, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_NOW: AT.toISOString() };
  });
  afterAll(async () => fx?.close());

  it('lists every extraction of a dossier key: emitted with file, position, bytes and AttestationID, the NOTI and its anomaly, the final state', async () => {
    const t = await traceRecord(sources(), 'D01', { now: AT });
    expect(t.query).toEqual({ kind: 'key', value: 'D01' });
    expect(t.entries.map((e) => [e.flow, e.period, e.outcome, e.finalState])).toEqual([
      ['contribution-slips', '2024-Q1', 'emitted', 'rejected'],
      ['tax-attestations', '2024', 'emitted', 'pending'],
    ]);
    const slip = t.entries[0]!;
    expect(slip).toMatchObject({ file: slipsFile, status: 'original', runKind: 'original', noti: 'accepted_with_anomalies', recordKey: `${inss.slice(0, 2)}*******${inss.slice(-2)}` });
    expect(slip.position).toBeGreaterThan(0);
    expect(slip.attestationId).toMatch(/^\d+$/);
    expect(slip.byteRange!.bytes).toBeGreaterThan(0);
    expect(slip.replies.map((p) => [p.name, p.kind])).toEqual([['FO.NOTI.TRACE', 'NOTI']]);
    expect(slip.anomalies).toEqual([{ reply: 'FO.NOTI.TRACE', code: '00042', blocking: true, description: `unknown person ${inss.slice(0, 2)}*******${inss.slice(-2)}` }]);
    expect(JSON.stringify(t)).not.toContain(inss);
  });

  it('shows the reason of a file its NOTI rejected whole on each of its records: the anomalies about the file, masked', async () => {
    const other = await fx.db.pool.query<{ name: string; submission_id: string; source_key: string }>(
      `SELECT f.name, f.submission_id, o.source_key FROM maillon.record_outcomes o JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
       WHERE f.name <> $1 AND f.run_id = (SELECT run_id FROM maillon.files WHERE name = $1) AND o.outcome = 'emitted' ORDER BY o.ordinal LIMIT 1`,
      [slipsFile],
    );
    const { name, submission_id: submissionId, source_key: key } = other.rows[0]!;
    await fx.db.pool.query('UPDATE maillon.submissions SET go_started_at = $2 WHERE submission_id = $1', [submissionId, AT]);
    await withTransaction(fx.db.pool, async (tx) => {
      await applyTestReply(tx, 'FO.ACRF.WHOLE', AT, { kind: 'ACRF', fileName: name, accepted: true, errorIds: [] });
      await applyTestReply(tx, 'FO.NOTI.WHOLE', AT, {
        kind: 'NOTI',
        fileName: name,
        result: 'rejected',
        anomalies: [{ inss: null, attestationId: null, blocking: true, code: '00912', description: `declared twice, first for ${inss}` }],
      });
    });
    const t = await traceRecord(sources(), key, { now: AT });
    const entry = t.entries.find((e) => e.file === name)!;
    const masked = `${inss.slice(0, 2)}*******${inss.slice(-2)}`;
    expect(entry).toMatchObject({ noti: 'rejected', finalState: 'rejected', anomalies: [] });
    expect(entry.fileAnomalies).toEqual([{ reply: 'FO.NOTI.WHOLE', code: '00912', blocking: true, description: `declared twice, first for ${masked}` }]);
    expect(traceToText(t)).toContain(`    anomaly of the whole file 00912 (blocking) in FO.NOTI.WHOLE: declared twice, first for ${masked}\n`);
    expect(traceToHtml(t)).toContain(`whole file: 00912 blocking: declared twice, first for ${masked}`);
    expect(JSON.stringify(t)).not.toContain(inss);
    // D01's file was not rejected whole: no anomaly about it.
    expect((await traceRecord(sources(), 'D01', { now: AT })).entries[0]!.fileAnomalies).toEqual([]);
  });

  it("shows the error ids of the ACRF that rejected a record's file", async () => {
    const tax = await fx.db.pool.query<{ name: string; submission_id: string }>(
      `SELECT f.name, f.submission_id FROM maillon.record_outcomes o JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key
       JOIN maillon.runs r ON r.run_id = o.run_id WHERE r.flow = 'tax-attestations' AND o.source_key = 'D01' AND o.outcome = 'emitted'`,
    );
    const { name, submission_id: submissionId } = tax.rows[0]!;
    await fx.db.pool.query('UPDATE maillon.submissions SET go_started_at = $2 WHERE submission_id = $1', [submissionId, AT]);
    await withTransaction(fx.db.pool, (tx) => applyTestReply(tx, 'FO.ACRF.TAX', AT, { kind: 'ACRF', fileName: name, accepted: false, errorIds: ['E0051', 'E0107'] }));
    const t = await traceRecord(sources(), 'D01', { now: AT });
    expect(t.entries.map((e) => [e.flow, e.ack, e.ackErrors, e.finalState])).toEqual([
      ['contribution-slips', null, [], 'rejected'],
      ['tax-attestations', 'rejected', ['E0051', 'E0107'], 'rejected'],
    ]);
    expect(traceToText(t)).toMatch(/; ACRF rejected \(E0051, E0107\); NOTI -\n/);
    expect(traceToHtml(t)).toContain('; ACRF errors E0051, E0107');
  });

  it('finds the same record by INSS, masked, and a quarantined record under its rule', async () => {
    const byInss = await traceRecord(sources(), inss, { now: AT });
    expect(byInss.query.value).not.toContain(inss.slice(2, 9));
    expect(byInss.entries.map((e) => [e.flow, e.sourceKey])).toEqual([
      ['contribution-slips', 'D01'],
      ['tax-attestations', 'D01'],
    ]);
    const d05 = await traceRecord(sources(), 'D05', { now: AT });
    expect(d05.entries.find((e) => e.flow === 'contribution-slips')).toMatchObject({ outcome: 'quarantined', rule: 'no-insurer', finalState: 'quarantined', file: null });
  });

  it('the command masks the INSS unless --unmask, which is recorded as an event of the ledger chain', async () => {
    const text = await maillon(['trace', 'D01'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`emitted in ${slipsFile} at position`);
    expect(text.stdout).toContain('anomaly 00042 (blocking) in FO.NOTI.TRACE');
    expect(text.stdout).toContain('final state: rejected');
    expect(text.stdout + text.stderr).not.toContain(inss);
    const before = await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.events WHERE kind = 'trace_unmasked'`);
    expect(before.rows[0].n).toBe(0);
    const json = await maillon(['trace', inss, '--json', '--unmask'], env);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { query: { value: string }; entries: { recordKey: string }[] };
    expect(parsed.query.value).toBe(inss);
    expect(parsed.entries[0]!.recordKey).toBe(inss);
    const events = await fx.db.pool.query(`SELECT detail FROM maillon.events WHERE kind = 'trace_unmasked'`);
    expect(events.rows).toHaveLength(1);
    expect(events.rows[0].detail).toMatchObject({ sourceKeys: ['D01'], entries: 2, by: expect.any(String) });
    expect(JSON.stringify(events.rows[0].detail)).not.toContain(inss);
    expect((await verifyChain(fx.db.pool)).broken).toBeNull();
    const unknown = await maillon(['trace', 'NO-SUCH-KEY'], env);
    expect(unknown.code).toBe(4);
    expect(unknown.stdout).toContain('0 extraction(s)');
  });

  it('answers from indexes, not by reading the whole lineage', async () => {
    const plan = async (where: string, param: string): Promise<string> =>
      withTransaction(fx.db.pool, async (tx) => {
        await tx.query('SET LOCAL enable_seqscan = off');
        const rows = await tx.query(`EXPLAIN SELECT * FROM maillon.record_outcomes o WHERE ${where}`, [param]);
        return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    expect(await plan('o.source_key = $1', 'D01')).toContain('record_outcomes_source_key');
    expect(await plan('o.record_key = $1', inss)).toContain('record_outcomes_record_key');
  });

  it('finds a record by a source key of any length, by index (a key over a btree entry failed the run whole: "index row size … exceeds btree version 4 maximum 2704 for index record_outcomes_source_key")', async () => {
    // Random text, which PostgreSQL cannot compress, as statistics stores a contribution's key.
    const key = `contribution:${randomBytes(3000).toString('base64url').slice(0, 3000)}`;
    const run = await fx.db.pool.query<{ run_id: number }>(`SELECT run_id FROM maillon.runs WHERE flow = 'contribution-slips' AND state = 'succeeded'`);
    await withTransaction(fx.db.pool, async (tx) => {
      const w = createOutcomeWriter(tx, run.rows[0]!.run_id);
      await w.quarantined({ ordinal: 1_000_000, sourceKey: key, recordKey: null, rule: 'no-insurer', message: 'no insurer on the first day of the quarter' });
      await w.end();
    });
    const entries = await readTrace(fx.db.pool, parseTraceQuery(key));
    expect(entries.map((e) => [e.flow, e.outcome, e.rule, e.sourceKey === key])).toEqual([['contribution-slips', 'quarantined', 'no-insurer', true]]);
    const plan = await withTransaction(fx.db.pool, async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      return (await tx.query(`EXPLAIN SELECT * FROM maillon.record_outcomes WHERE source_key = $1`, [key])).rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('record_outcomes_source_key');
  });

  it('renders as a page in the browser, and the status server answers /trace?key=…, masked', async () => {
    const dir = path.dirname(fx.outbox);
    const file = path.join(dir, 'trace.html');
    // A file: the browser helper waits synchronously, so it cannot read a server of this process.
    await fs.writeFile(file, traceToHtml(await traceRecord(sources(), inss, { now: AT })));
    const dom = await renderedDom(file, path.join(dir, 'chromium-trace'));
    expect(dom).toContain('<p id="summary">2 extraction(s), oldest run first.</p>');
    expect(dom).toContain(slipsFile);
    expect(dom).toContain('00042 blocking');
    expect(dom).not.toContain(inss);
    const server = await startStatusServer(
      {
        html: () => Promise.resolve(''),
        json: () => Promise.resolve({}),
        report: () => Promise.resolve(''),
        health: () => Promise.resolve({ ok: true }),
        metrics: new Registry(),
        logger: createLogger('silent'),
        trace: async (key) => traceToHtml(key ? await traceRecord(sources(), key, { now: AT }) : null),
      },
      0,
    );
    try {
      const page = await (await fetch(`http://127.0.0.1:${server.port}/trace?key=${inss}`)).text();
      expect(page).toContain(slipsFile);
      expect(page).not.toContain(inss);
      // The page's form posts the key, so that an INSS stays out of the address.
      const posted = await (await fetch(`http://127.0.0.1:${server.port}/trace`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${inss}` })).text();
      expect(posted).toContain(slipsFile);
      expect(posted).not.toContain(inss);
      const form = await fetch(`http://127.0.0.1:${server.port}/trace`);
      expect(form.status).toBe(200);
      expect(await form.text()).toContain('<form method="post" action="/trace">');
    } finally {
      await server.close();
    }
  });

  it('maillon serve shows the trace at /trace and links the report page dossier keys to it', async () => {
    const serve = spawnMaillon(['serve'], { ...env, MAILLON_STATUS_PORT: '0', MAILLON_CATCHUP_DAYS: '1', MAILLON_LOG_LEVEL: 'warn' });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      serve.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /status page (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]!);
      });
      serve.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    try {
      const page = await (await fetch(`${url}trace?key=D01`)).text();
      expect(page).toContain('<p id="summary">');
      expect(page).toContain(slipsFile);
      expect(page).not.toContain(inss);
      const report = await (await fetch(`${url}report/contribution-slips/2024-Q1`)).text();
      expect(report).toContain('<a href="/trace?key=D05">D05</a>');
      expect(report).toContain('<table id="versions">');
    } finally {
      serve.kill('SIGTERM');
    }
    await new Promise((resolve) => serve.on('exit', resolve));
  });

  it('prints no control character of a dossier key, an anomaly code or a message, C1 controls included', async () => {
    // A quarantined key and a reply's code that would clear the screen through the C1 CSI (U+009B) and set the window title.
    const key = 'D\u009b2J\u001b]0;x\u0007';
    await fx.db.pool.query(
      `INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, rule, message)
       SELECT run_id, 900001, $1, 'quarantined', 'no-insurer', 'no insurer \u0085on the day' FROM maillon.runs WHERE flow = 'contribution-slips' AND NOT dry_run`,
      [key],
    );
    await fx.db.pool.query(
      `INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, blocking, code)
       SELECT p.reply_id, f.file_id, o.run_id, o.ordinal, false, '\u009b7m'
       FROM maillon.record_outcomes o JOIN maillon.files f ON f.run_id = o.run_id AND f.file_key = o.file_key, maillon.replies p
       WHERE o.source_key = 'D01' AND f.name = $1 AND p.name = 'FO.NOTI.TRACE'`,
      [slipsFile],
    );
    const text = traceToText(await traceRecord(sources(), key, { now: AT })) + traceToText(await traceRecord(sources(), 'D01', { now: AT }));
    // eslint-disable-next-line no-control-regex -- control characters are what is looked for
    expect(text.replaceAll('\n', '').match(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g)).toBeNull();
    expect(text).toContain('trace of dossier key D\\x9b2J\\x1b]0;x\\x07: 1 extraction(s)');
    expect(text).toContain('    quarantined under no-insurer: no insurer \\x85on the day\n');
    expect(text).toContain(`    anomaly \\x9b7m in FO.NOTI.TRACE\n`);
  });
});
