import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliContext } from '../../src/cli/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

// On SIGTERM, main.ts closes the databases from the signal's handler while the command that
// returned closes them again at its end: the second closing must not end the pools twice (pg
// refuses it) nor stop an embedded server twice.
describe('the CLI context', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('closes its databases once, however often and however concurrently it is asked', async () => {
    const ctx = createCliContext({ DATABASE_URL: db.url, MAILLON_ENV: 'T', MAILLON_LOG_LEVEL: 'silent' });
    const dbs = await ctx.databases();
    expect((await dbs.ledger.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await expect(Promise.all([ctx.close(), ctx.close()])).resolves.toBeDefined();
    await expect(ctx.close()).resolves.toBeUndefined();
    await expect(dbs.ledger.query('SELECT 1')).rejects.toThrow();
  });
});
