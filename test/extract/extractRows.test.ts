import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOutText, extractRows } from '../../src/extract/extractRows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

// Characters of one to four bytes in UTF-8, repeated far past one socket read.
const LINE = 'aé中🙂'.repeat(50);
const ROWS = 20_000;

describe('COPY … TO STDOUT read as rows and as text (real PostgreSQL)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  const activeCopies = async (): Promise<number> => {
    const r = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY%' AND pid <> pg_backend_pid()`);
    return r.rows[0]!.n;
  };

  it('decodes the text whole: no character cut between two pieces, in many pieces', async () => {
    const pieces: string[] = [];
    for await (const piece of copyOutText(db.pool, `SELECT '${LINE}' FROM generate_series(1, ${ROWS})`, 'FORMAT text')) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(10);
    expect(pieces.join('')).toBe(`${LINE}\n`.repeat(ROWS));
    expect(pieces.filter((p) => /[\uD800-\uDBFF]$/.test(p) || /^[\uDC00-\uDFFF]/.test(p) || p.includes('\uFFFD'))).toEqual([]);
  });

  it('a reader that stops early leaves no COPY running and the pool working', async () => {
    for await (const piece of copyOutText(db.pool, `SELECT '${LINE}' FROM generate_series(1, 1000000)`, 'FORMAT text')) {
      expect(piece.length).toBeGreaterThan(0);
      break;
    }
    for await (const row of extractRows(db.pool, `SELECT json_build_object('n', g) FROM generate_series(1, 1000000) g`)) {
      expect(row).toEqual({ n: 1 });
      break;
    }
    await expect.poll(activeCopies, { timeout: 10_000 }).toBe(0);
    expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it("a query that fails on the way fails the reader with PostgreSQL's error, and the pool goes on", async () => {
    const read = async (): Promise<number> => {
      let n = 0;
      for await (const piece of copyOutText(db.pool, `SELECT 1 / (50000 - g) FROM generate_series(1, 100000) g`, 'FORMAT csv')) n += piece.length;
      return n;
    };
    await expect(read()).rejects.toThrow(/division by zero/);
    expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(await activeCopies()).toBe(0);
  });
});
