import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { canonicalJson, verifyChain } from '../../src/ledger/events.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';
import path from 'node:path';

describe('the tamper-evident event chain', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    for (const period of ['2026-Q3', '2026-Q2', '2026-Q1']) await fx.run(career, period);
  });
  afterAll(async () => fx.close());

  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":2,"f":1}]},"b":1}');
  });

  it('verifies a normal history', async () => {
    expect(await verifyChain(fx.db.pool)).toEqual({ events: 3, broken: null });
    const cli = await maillon(['verify-ledger'], { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox) });
    expect(cli.code).toBe(0);
    expect(cli.stdout.trim()).toBe('3 events, chain intact');
  });

  it('names the exact event after a row is edited, and the next one after a row is removed', async () => {
    const ids = (await fx.db.pool.query('SELECT event_id FROM maillon.events ORDER BY event_id')).rows.map((r) => Number(r.event_id));
    await fx.db.pool.query(`UPDATE maillon.events SET detail = jsonb_set(detail, '{sequence}', '"00009"') WHERE event_id = $1`, [ids[1]]);
    expect((await verifyChain(fx.db.pool)).broken).toEqual({ eventId: ids[1], reason: expect.stringContaining('edited') });
    const cli = await maillon(['verify-ledger'], { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox) });
    expect(cli.code).toBe(13);
    expect(cli.stderr).toContain(`broken at event #${ids[1]}`);
    await fx.db.pool.query(`DELETE FROM maillon.events WHERE event_id = $1`, [ids[1]]);
    expect((await verifyChain(fx.db.pool)).broken).toEqual({ eventId: ids[2], reason: expect.stringContaining('removed') });
  });
});

describe('the written events of a run with several receivers', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture();
  });
  afterAll(async () => fx.close());

  it('one per submission, chained in sequence order, each naming its files; consecutive sequences', async () => {
    const run = await fx.run(contributionSlips, '2024-Q1');
    const subs = (await fx.db.pool.query('SELECT submission_id, receiver, sequence FROM maillon.submissions WHERE run_id = $1 ORDER BY submission_id', [run.runId])).rows;
    expect(subs.length).toBeGreaterThan(2);
    // Receivers in name order take consecutive sequences, from 00001.
    expect(subs.map((s) => s.receiver)).toEqual([...subs.map((s) => s.receiver)].sort());
    expect(subs.map((s) => s.sequence)).toEqual(subs.map((_, i) => String(i + 1).padStart(5, '0')));
    const events = (await fx.db.pool.query("SELECT submission_id, detail FROM maillon.events WHERE kind = 'written' ORDER BY event_id")).rows;
    expect(events.map((e) => Number(e.submission_id))).toEqual(subs.map((s) => Number(s.submission_id)));
    for (const [i, e] of events.entries()) {
      const files = (await fx.db.pool.query('SELECT name, bytes, sha256 FROM maillon.files WHERE submission_id = $1 ORDER BY part', [subs[i]!.submission_id])).rows;
      expect(e.detail.sequence).toBe(subs[i]!.sequence);
      expect(e.detail.files).toEqual(files.map((f) => ({ name: f.name, bytes: Number(f.bytes), sha256: f.sha256 })));
      expect(files.map((f) => f.name)).toEqual(run.files.filter((f) => f.sequence === subs[i]!.sequence).map((f) => f.name));
    }
    expect(await verifyChain(fx.db.pool)).toEqual({ events: events.length, broken: null });
  });
});
