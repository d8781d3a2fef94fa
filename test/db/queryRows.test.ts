import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withTransaction } from '../../src/db/database.js';
import { queryFirst, queryRows, RowShapeError } from '../../src/db/queryRows.js';
import { DatabaseError } from '../../src/errors/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

describe('queryRows', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  const Row = z.object({ n: z.number(), big: z.string(), at: z.date(), detail: z.object({ k: z.string() }) });
  const sql = `SELECT n, n::bigint AS big, timestamptz '2026-12-06T10:00:00Z' AS at, jsonb_build_object('k', 'v' || n) AS detail FROM generate_series(1, 3) AS n WHERE n >= $1`;

  it('returns the rows parsed and typed, as pg gives them (BIGINT as text, timestamptz as Date, jsonb parsed)', async () => {
    const rows = await queryRows(db.pool, sql, [2], Row);
    expect(rows).toEqual([
      { n: 2, big: '2', at: new Date('2026-12-06T10:00:00Z'), detail: { k: 'v2' } },
      { n: 3, big: '3', at: new Date('2026-12-06T10:00:00Z'), detail: { k: 'v3' } },
    ]);
    expect(await queryFirst(db.pool, sql, [3], Row)).toEqual({ n: 3, big: '3', at: new Date('2026-12-06T10:00:00Z'), detail: { k: 'v3' } });
    expect(await queryFirst(db.pool, sql, [4], Row)).toBeUndefined();
  });

  it('runs on a client inside a transaction too', async () => {
    const rows = await withTransaction(db.pool, (tx) => queryRows(tx, 'SELECT 1 AS n', [], z.object({ n: z.number() })));
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('refuses a row of another shape with a typed error naming the query, the row and the column', async () => {
    // The third row's detail has no "k": the code would read undefined where it expects text.
    const mismatch = `SELECT n, n::bigint AS big, now() AS at, CASE WHEN n = 3 THEN '{}'::jsonb ELSE jsonb_build_object('k', 'v') END AS detail
                      FROM generate_series(1, 3) AS n`;
    const err = await queryRows(db.pool, mismatch, [], Row).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RowShapeError);
    expect(err).toBeInstanceOf(DatabaseError);
    const e = err as RowShapeError;
    expect(e.exitCode).toBe(6);
    expect(e.row).toBe(2);
    expect(e.query).toMatch(/^SELECT n, n::bigint AS big, now\(\) AS at, CASE WHEN n = 3 .* FROM generate_series\(1, 3\) AS n$/);
    expect(e.issues.map((i) => i.path.join('.'))).toEqual(['detail.k']);
    expect(e.message).toMatch(
      /^Row 2 of the query "SELECT n, n::bigint AS big, now\(\) AS at, CASE WHEN n = 3 .*" does not have the expected shape \(detail\.k: .+\)\. Check that the ledger's migrations are applied/,
    );
  });

  it('names a BIGINT read as a number: the common mistake with pg', async () => {
    const err = await queryRows(db.pool, 'SELECT 7::bigint AS id', [], z.object({ id: z.number() })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RowShapeError);
    expect((err as RowShapeError).message).toMatch(/Row 0 of the query "SELECT 7::bigint AS id" does not have the expected shape \(id: .*expected number.*\)/);
  });
});
