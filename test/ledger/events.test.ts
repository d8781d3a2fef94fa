import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { canonicalJson, verifyChain } from '../../src/ledger/events.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';
import path from 'node:path';

describe('the tamper-evident event chain', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    for (let i = 0; i < 3; i++) await fx.run(career, '2026-Q3');
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
