import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { withTransaction } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { rejectedBaseSql } from '../../src/ledger/rejectedBase.js';
import { maskPersonalData } from '../../src/log/maskPersonalData.js';
import { collectChunks } from '../../src/reconcile/chunks.js';
import { readReportHead } from '../../src/reconcile/report.js';
import { readReportLists } from '../../src/reconcile/runLists.js';
import { reportChunks } from '../../src/reconcile/reportStream.js';
import { applyTestReply } from '../helpers/applyTestReply.js';
import { CHANNEL_CLOCK, createReplyChannel, type ReplyChannel } from '../helpers/replyChannel.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** A thousand submissions of a flow (four of them in 2026-Q3), each with six events. */
async function someHistory(db: TestDatabase): Promise<void> {
  await db.pool.query(
    `INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, finished_at, extracted, emitted, quarantined, started_by, host, pid)
     VALUES ('career', '2026-Q3', 'T', '2026-10-10T00:00:00Z', false, 'succeeded', '2026-10-10T00:00:00Z', '2026-10-10T00:01:00Z', 1, 1, 0, 'op', 'old-host', 1)`,
  );
  await db.pool.query(
    `INSERT INTO maillon.submissions (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, state, created_at, kind)
     SELECT 1, 'career', CASE WHEN g <= 4 THEN '2026-Q3' ELSE 'P' || g END, 'T', 'INASTI', '012345', 'CARR', '2026-10-10', lpad(g::text, 5, '0'), 1, 'written', '2026-10-10T00:01:00Z', 'correction'
     FROM generate_series(1, 1000) g`,
  );
  await db.pool.query(
    `INSERT INTO maillon.events (at, submission_id, kind, detail, prev_hash, hash)
     SELECT '2026-10-10T00:01:00Z', s, k, '{}', md5(s || k || 'prev') || md5(s || k), md5(s || k || 'hash') || md5(k || s)
     FROM generate_series(1, 1000) s, unnest(ARRAY['written', 'go_started', 'sent', 'acrf', 'noti', 'rejected']) k`,
  );
  await db.pool.query('ANALYZE maillon.submissions, maillon.events');
}

/** The plan PostgreSQL picks for the rejected-base check of the submissions of one period. */
async function rejectedBasePlan(db: TestDatabase): Promise<string> {
  const plan = await db.pool.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (COSTS OFF) SELECT s.submission_id, ${rejectedBaseSql('s')} AS ids FROM maillon.submissions s WHERE flow = 'career' AND period = '2026-Q3' AND environment = 'T'`,
  );
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** A ledger as maillon left it at migration 170, with some history, brought to the latest version. */
describe('migration 190: the events of a submission by index', () => {
  let db: TestDatabase;
  let applied: number[];
  let before: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('DROP SCHEMA maillon CASCADE');
    await migrate(db.pool, 'ledger', 170);
    await someHistory(db);
    before = await rejectedBasePlan(db);
    applied = await migrate(db.pool, 'ledger');
  });
  afterAll(async () => db?.drop());

  it('indexes maillon.events by submission, kind and event id', async () => {
    expect(applied).toContain(190);
    const index = await db.pool.query<{ def: string }>(`SELECT pg_get_indexdef('maillon.events_submission'::regclass) AS def`);
    expect(index.rows[0]!.def).toContain('ON maillon.events USING btree (submission_id, kind, event_id)');
  });

  it('the rejected-base check reads the written and rejected events of a submission by that index', async () => {
    // Before it, PostgreSQL read the whole chain (a sequential scan, or every event after one).
    expect(before).not.toContain('events_submission');
    const plan = await rejectedBasePlan(db);
    expect(plan).toMatch(/using events_submission on events we\n\s+Index Cond: \(\(submission_id = s\.submission_id\) AND \(kind = 'written'::text\)/);
    expect(plan).toMatch(/using events_submission on events re\n\s+Index Cond: \(\(submission_id = rb(_\d)?\.submission_id\) AND \(kind = 'rejected'::text\)/);
  });
});

/** A person's number (valid check digits), and 11 digits whose check digits are wrong. */
const INSS = '93051822361';
const WRONG_CHECK = '93051822399';
/** Texts as replies recorded them before they were masked on reading, each with what maskPersonalData makes of it. */
const OLD_TEXTS = [
  `X-${INSS}`,
  `unclosed tag: Ref${INSS}`,
  'E-93.05.18-223.61',
  `${INSS}/${WRONG_CHECK}`,
  '12345678901.07.30-033.28',
  // Not 11 digits: left as they are.
  'E002-1234567890',
  'E002-123456789012',
  'E002-REFUSED',
];

/**
 * Replies recorded by a maillon from before c6766be, which kept a person's number in anomaly codes,
 * ACRF error ids and reasons as the reply gave them: a ledger at migration 190 holding such rows,
 * brought to the latest version.
 */
describe("migration 195: a person's number in what replies recorded before they were masked", () => {
  let ch: ReplyChannel;
  let periods: string[];
  beforeAll(async () => {
    ch = await createReplyChannel();
    await ch.fx.db.pool.query('DROP SCHEMA maillon CASCADE');
    await migrate(ch.fx.db.pool, 'ledger', 190);
    const rejected = await ch.runAndSend('T');
    const noti = await ch.runAndSend('T');
    periods = [rejected.period, noti.period];
    const record = (await ch.fx.db.pool.query(`SELECT record_key FROM maillon.record_outcomes WHERE run_id = $1 AND outcome = 'emitted' ORDER BY ordinal LIMIT 1`, [noti.run.runId])).rows[0];
    await withTransaction(ch.fx.db.pool, async (tx) => {
      await applyTestReply(tx, 'FO.ACRF.OLD-1', CHANNEL_CLOCK.now(), { kind: 'ACRF', fileName: rejected.file, accepted: false, errorIds: OLD_TEXTS });
      await applyTestReply(tx, 'FO.ACRF.OLD-2', CHANNEL_CLOCK.now(), { kind: 'ACRF', fileName: noti.file, accepted: true, errorIds: [] });
      await applyTestReply(tx, 'FO.NOTI.OLD-2', CHANNEL_CLOCK.now(), {
        kind: 'NOTI',
        fileName: noti.file,
        result: 'accepted_with_anomalies',
        anomalies: [
          // One matched to a record, one matching none.
          ...OLD_TEXTS.map((code) => ({ inss: record.record_key, attestationId: null, blocking: true, code, description: 'old' })),
          { inss: '00000000097', attestationId: null, blocking: true, code: `Y-${INSS}`, description: 'old' },
        ],
      });
    });
    // A reply set aside with a library's message quoting the number, as maillon wrote it then.
    await ch.fx.db.pool.query(`INSERT INTO maillon.replies (server, name, received_at, state, reason, kind, file_name) VALUES ('test', 'FO.ACRF.OLD-3', $1, 'set_aside', $2, 'ACRF', $3)`, [
      CHANNEL_CLOCK.now(),
      `The reply is not well-formed XML (1:120: unclosed tag: Ref${INSS})`,
      noti.file,
    ]);
    expect(await migrate(ch.fx.db.pool, 'ledger')).toContain(195);
  });
  afterAll(async () => ch?.close());

  it('masks codes, error ids and reasons in place as the code masks them; other numbers are left as they are', async () => {
    const stored = await ch.fx.db.pool.query(
      `SELECT (SELECT array_agg(code ORDER BY anomaly_id) FROM maillon.record_anomalies) AS codes,
              (SELECT ack_errors FROM maillon.files WHERE ack_state = 'rejected') AS errors,
              (SELECT reason FROM maillon.replies WHERE name = 'FO.ACRF.OLD-3') AS reason`,
    );
    const masked = OLD_TEXTS.map(maskPersonalData);
    expect(masked).toEqual([
      'X-93*******61',
      'unclosed tag: Ref93*******61',
      'E-93*******61',
      '93*******61/93*******99',
      '12*******01.07.30-033.28',
      'E002-1234567890',
      'E002-123456789012',
      'E002-REFUSED',
    ]);
    expect(stored.rows[0]).toEqual({
      codes: [...masked, 'Y-93*******61'],
      errors: masked,
      reason: 'The reply is not well-formed XML (1:120: unclosed tag: Ref93*******61)',
    });
  });

  it('every report format shows them masked', async () => {
    for (const period of periods) {
      const head = await readReportHead(ch.fx.db.pool, career, period, 'T', CHANNEL_CLOCK.now());
      for (const format of ['json', 'csv', 'html', 'text']) {
        const report = await collectChunks(reportChunks(format, head, readReportLists(ch.fx.db.pool, head.runId)));
        expect(report, `${period} ${format}`).toContain('93*******61');
        for (const full of [INSS, WRONG_CHECK, '93.05.18-223.61']) expect(report, `${period} ${format}`).not.toContain(full);
        if (period === periods[1]) expect(report, `${period} ${format}`).toContain('1:120: unclosed tag: Ref93*******61');
      }
    }
  });
});
