import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { verifyChain } from '../../src/ledger/events.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';

describe('verify-ledger compares the tables with the event chain', () => {
  let fx: FlowFixture;
  let subs: number[];
  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    for (const period of ['2026-Q3', '2026-Q2', '2026-Q1']) await fx.run(career, period);
    subs = (await fx.db.pool.query('SELECT submission_id FROM maillon.submissions ORDER BY submission_id')).rows.map((r) => Number(r.submission_id));
  });
  afterAll(async () => fx.close());

  it('agrees with a history maillon wrote', async () => {
    expect((await verifyChain(fx.db.pool)).mismatches).toEqual([]);
  });

  it('names a submission moved without its event, files changed, and a reply applied without its event', async () => {
    const q = fx.db.pool;
    // The reviewer's case: accepted by hand, no ACRF nor NOTI event.
    await q.query(`UPDATE maillon.submissions SET go_started_at = now(), sent_at = now(), state = 'sent' WHERE submission_id = $1`, [subs[0]]);
    await q.query(`UPDATE maillon.submissions SET state = 'accepted' WHERE submission_id = $1`, [subs[0]]);
    const file = (await q.query(`UPDATE maillon.files SET sha256 = repeat('0', 64) WHERE submission_id = $1 AND kind = 'FI' RETURNING name`, [subs[1]])).rows[0].name;
    await q.query(
      `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, kind, file_name)
       VALUES ('test', 'FO.NOTI.999999.20261010.00001.T', now(), 22, repeat('a', 64), '/nowhere', 'processed', 'NOTI', $1)`,
      [file],
    );
    const { broken, mismatches } = await verifyChain(q);
    expect(broken).toBeNull();
    expect(mismatches).toEqual([
      { submissionId: subs[0], what: `submission ${subs[0]} is accepted in maillon.submissions, but its last state event says written` },
      {
        submissionId: subs[1],
        what: expect.stringMatching(new RegExp(`^submission ${subs[1]}'s files in maillon.files \\(${file} sha256 0{64}\\) are not those of its written event \\(${file} sha256 [0-9a-f]{64}\\)$`)),
      },
      { submissionId: subs[1], what: `the NOTI reply FO.NOTI.999999.20261010.00001.T about ${file} is processed in maillon.replies, but the chain has no event of it` },
    ]);
    const cli = await maillon(['verify-ledger'], { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox) });
    expect(cli.code).toBe(13);
    expect(cli.stderr).toContain(`The ledger's tables disagree with its event chain (3 events, intact) in 3 place(s):\n  submission ${subs[0]} is accepted in maillon.submissions`);
  });
});
