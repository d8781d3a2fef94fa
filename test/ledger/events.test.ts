import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { createPool, type Pool, withTransaction } from '../../src/db/database.js';
import { type ChainHead, formatChainHead } from '../../src/ledger/chainHead.js';
import { appendEvent, canonicalJson, eventHash, GENESIS, type LedgerEvent, recordEvent, verifyChain } from '../../src/ledger/events.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';
import path from 'node:path';

/** What only the database's superuser can still do: change events with the table's triggers off. */
async function tamper(pool: Pool, sql: string, params: unknown[] = []): Promise<void> {
  await withTransaction(pool, async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(sql, params);
  });
}

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

  it('verifies a normal history, and prints its head to write down', async () => {
    const last = (await fx.db.pool.query('SELECT hash FROM maillon.events ORDER BY event_id DESC LIMIT 1')).rows[0].hash;
    expect(await verifyChain(fx.db.pool)).toEqual({ events: 3, head: { count: 3, hash: last }, broken: null, mismatches: [] });
    const cli = await maillon(['verify-ledger'], { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox) });
    expect(cli.code).toBe(0);
    expect(cli.stdout.trim().split('\n')).toEqual(['3 events, chain intact', `head 3:${last} (write it down; verify-ledger --expect 3:${last} checks later that the chain still starts with it)`]);
  });

  it('refuses to update, delete or truncate an event, whoever asks', async () => {
    const ids = (await fx.db.pool.query('SELECT event_id FROM maillon.events ORDER BY event_id')).rows.map((r) => Number(r.event_id));
    await expect(fx.db.pool.query(`UPDATE maillon.events SET detail = '{}' WHERE event_id = $1`, [ids[1]])).rejects.toThrow('maillon.events is append-only: UPDATE refused');
    await expect(fx.db.pool.query('DELETE FROM maillon.events WHERE event_id = $1', [ids[2]])).rejects.toThrow('maillon.events is append-only: DELETE refused');
    await expect(fx.db.pool.query('TRUNCATE maillon.events')).rejects.toThrow('maillon.events is append-only: TRUNCATE refused');
    await expect(fx.db.pool.query('TRUNCATE maillon.submissions CASCADE')).rejects.toThrow('maillon.events is append-only: TRUNCATE refused');
    expect((await verifyChain(fx.db.pool)).broken).toBeNull();
  });

  it('names the exact event after a row is edited, and the next one after a row is removed', async () => {
    const ids = (await fx.db.pool.query('SELECT event_id FROM maillon.events ORDER BY event_id')).rows.map((r) => Number(r.event_id));
    await tamper(fx.db.pool, `UPDATE maillon.events SET detail = jsonb_set(detail, '{sequence}', '"00009"') WHERE event_id = $1`, [ids[1]]);
    expect((await verifyChain(fx.db.pool)).broken).toEqual({ eventId: ids[1], reason: expect.stringContaining('edited') });
    const cli = await maillon(['verify-ledger'], { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox) });
    expect(cli.code).toBe(13);
    expect(cli.stderr).toContain(`broken at event #${ids[1]}`);
    await tamper(fx.db.pool, `DELETE FROM maillon.events WHERE event_id = $1`, [ids[1]]);
    expect((await verifyChain(fx.db.pool)).broken).toEqual({ eventId: ids[2], reason: expect.stringContaining('removed') });
  });

  it('calls a ledger with submissions and no event at all broken, not intact', async () => {
    await tamper(fx.db.pool, 'TRUNCATE maillon.events');
    expect(await verifyChain(fx.db.pool)).toMatchObject({ events: 0, head: null, broken: { eventId: null, reason: 'the ledger holds 3 submission(s) but no event at all (the events were removed)' } });
    const cli = await maillon(['verify-ledger'], { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox) });
    expect(cli.code).toBe(13);
    expect(cli.stderr).toContain('The ledger chain is broken: the ledger holds 3 submission(s) but no event at all');
  });
});

describe('a head written down (verify-ledger --expect)', () => {
  let fx: FlowFixture;
  let env: Record<string, string>;
  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    for (const period of ['2026-Q3', '2026-Q2', '2026-Q1']) await fx.run(career, period);
    env = { DATABASE_URL: fx.db.url, MAILLON_HOME: path.dirname(fx.outbox) };
  });
  afterAll(async () => fx.close());

  it('holds while the chain grows, and catches events removed from its end or a chain rewritten', async () => {
    const json = await maillon(['verify-ledger', '--json'], env);
    expect(json.code).toBe(0);
    const { head } = JSON.parse(json.stdout) as { head: ChainHead };
    expect(JSON.parse(json.stdout)).toEqual({ events: 3, intact: true, head: { count: 3, hash: expect.stringMatching(/^[0-9a-f]{64}$/) }, expected: null });
    const written = formatChainHead(head);
    await fx.run(career, '2025-Q4');
    const grown = await maillon(['verify-ledger', '--expect', written], env);
    expect(grown.code).toBe(0);
    expect(grown.stdout).toContain(`4 events, chain intact\nit still starts with the head written down, ${written}`);

    // The last two events removed: the rest of the chain is whole, but shorter than written down.
    await tamper(fx.db.pool, 'DELETE FROM maillon.events WHERE event_id IN (SELECT event_id FROM maillon.events ORDER BY event_id DESC LIMIT 2)');
    expect((await verifyChain(fx.db.pool)).broken).toBeNull();
    const shorter = await maillon(['verify-ledger', '--expect', written], env);
    expect(shorter.code).toBe(13);
    expect(shorter.stderr).toContain('The ledger chain is broken: it holds 2 events, fewer than the 3 of the head written down (events were removed from its end)');

    // A new append seals the hole: the chain is whole again, but its third event is another one.
    await fx.run(career, '2025-Q3');
    const sealed = await verifyChain(fx.db.pool, head);
    expect(sealed.broken).toEqual({ eventId: expect.any(Number), reason: expect.stringContaining(`it is the chain's event 3, whose hash was written down as ${head.hash} and is now`) });

    // The first event edited and every later hash recomputed: whole, and not the chain written down.
    const rows = (await fx.db.pool.query('SELECT event_id, at, submission_id, kind, detail FROM maillon.events ORDER BY event_id')).rows;
    let prev = GENESIS;
    for (const [i, r] of rows.entries()) {
      if (i === 0) r.detail.sequence = '99999';
      const hash = eventHash(prev, { at: r.at, submissionId: r.submission_id === null ? null : Number(r.submission_id), kind: r.kind, detail: r.detail });
      await tamper(fx.db.pool, 'UPDATE maillon.events SET detail = $2::jsonb, prev_hash = $3, hash = $4 WHERE event_id = $1', [r.event_id, JSON.stringify(r.detail), prev, hash]);
      prev = hash;
    }
    expect((await verifyChain(fx.db.pool)).broken).toBeNull();
    const rewritten = await maillon(['verify-ledger', '--expect', written], env);
    expect(rewritten.code).toBe(13);
    expect(rewritten.stderr).toContain(`broken at event #${rows[2].event_id}: it is the chain's event 3, whose hash was written down as ${head.hash}`);
  });

  it('refuses an --expect that is not a head verify-ledger printed', async () => {
    const cli = await maillon(['verify-ledger', '--expect', '3:abc'], env);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('--expect takes the head verify-ledger printed, <count>:<hash>');
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
    expect(await verifyChain(fx.db.pool)).toMatchObject({ events: events.length, broken: null });
  });
});

describe('appends at the same time', () => {
  let db: TestDatabase;
  let pool: Pool;
  const ev = (kind: string): LedgerEvent => ({ at: new Date('2026-10-10T00:00:00Z'), submissionId: null, kind, detail: { kind } });
  /** Waits until the chain's lock has `granted` holders and `waiting` waiters in this database. */
  async function chainLock(granted: number, waiting: number): Promise<void> {
    for (;;) {
      const { rows } = await pool.query(
        `SELECT count(*) FILTER (WHERE granted)::int AS granted, count(*) FILTER (WHERE NOT granted)::int AS waiting
         FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      if (rows[0].granted === granted && rows[0].waiting === waiting) return;
    }
  }
  beforeAll(async () => {
    db = await createTestDatabase();
    // A DBA's default: a transaction's snapshot is then taken at its first statement, before the lock.
    await db.pool.query(`ALTER DATABASE ${db.name} SET default_transaction_isolation = 'repeatable read'`);
    pool = createPool(db.url, 4);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('chain one after the other under a repeatable-read default', async () => {
    await recordEvent(pool, ev('first'));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = withTransaction(pool, async (tx) => {
      await appendEvent(tx, ev('a'));
      await gate;
    });
    await chainLock(1, 0);
    const b = withTransaction(pool, async (tx) => {
      await tx.query('SELECT count(*) FROM maillon.submissions');
      await appendEvent(tx, ev('b'));
    });
    await chainLock(1, 1);
    release();
    await Promise.all([a, b]);
    expect(await verifyChain(pool)).toMatchObject({ events: 3, broken: null });
  });

  it('cannot commit a fork: two events after the same one', async () => {
    const { rows } = await pool.query('SELECT prev_hash FROM maillon.events ORDER BY event_id DESC LIMIT 1');
    await expect(
      pool.query(`INSERT INTO maillon.events (at, submission_id, kind, detail, prev_hash, hash) VALUES (now(), NULL, 'forged', '{}', $1, repeat('f', 64))`, [rows[0].prev_hash]),
    ).rejects.toThrow('events_one_successor');
  });
});
