import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** Replies set aside at migration 195, as maillon recorded them then: name, reason, the setting they depended on. */
const BEFORE: [string, string, string | null][] = [
  ['CO.NOTI.999999.20261010.00001.T', 'The zipped reply CO.NOTI.999999.20261010.00001.T holds an entry of 53000000 bytes, over 52428800 bytes; it was set aside.', 'max_reply_bytes'],
  ['CO.NOTI.999999.20261010.00002.T', 'The zipped reply CO.NOTI.999999.20261010.00002.T inflates beyond 52428800 bytes; it was set aside.', 'max_reply_bytes'],
  ['CO.NOTI.999999.20261010.00003.T', '60000000 bytes, over the limit of 52428800; not downloaded.', 'max_reply_bytes'],
  ['FO.NOTI.999999.20261010.00004.T', '60000000 bytes, over the limit of 52428800; not downloaded.', 'max_reply_bytes'],
  ['CO.NOTI.999999.20261010.00005.T', 'The zipped reply CO.NOTI.999999.20261010.00005.T holds 2 entries; a reply holds exactly one; it was set aside.', null],
];

/** A ledger at migration 195 holding replies set aside for their size, brought to the latest version. */
describe('migration 220: the unzipped content of a zipped reply has its own limit', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('DROP SCHEMA maillon CASCADE');
    await migrate(db.pool, 'ledger', 195);
    for (const [name, reason, dependsOn] of BEFORE) {
      await db.pool.query(
        `INSERT INTO maillon.replies (server, name, received_at, state, reason, kind, depends_on, depends_value) VALUES ('test', $1, '2026-10-10T02:00:00Z', 'set_aside', $2, 'NOTI', $3, $4)`,
        [name, reason, dependsOn, dependsOn ? '52428800' : null],
      );
    }
    expect(await migrate(db.pool, 'ledger')).toContain(220);
  });
  afterAll(async () => db?.drop());

  it('makes the zipped replies set aside for their unzipped size depend on MAILLON_MAX_UNZIPPED_BYTES, at the limit they were refused at; the others keep theirs', async () => {
    const rows = await db.pool.query('SELECT name, depends_on, depends_value FROM maillon.replies ORDER BY name');
    expect(rows.rows.map((r) => [r.name.slice(0, 2) + r.name.slice(-7), r.depends_on, r.depends_value])).toEqual([
      ['CO00001.T', 'max_unzipped_bytes', '52428800'],
      ['CO00002.T', 'max_unzipped_bytes', '52428800'],
      ['CO00003.T', 'max_reply_bytes', '52428800'],
      ['CO00005.T', null, null],
      ['FO00004.T', 'max_reply_bytes', '52428800'],
    ]);
  });

  it('accepts max_unzipped_bytes as what a set-aside reply depends on, and still refuses an unknown setting', async () => {
    await expect(db.pool.query(`UPDATE maillon.replies SET depends_on = 'max_unzipped_bytes' WHERE name LIKE '%00004.T'`)).resolves.toBeDefined();
    await expect(db.pool.query(`UPDATE maillon.replies SET depends_on = 'max_zipped_bytes' WHERE name LIKE '%00004.T'`)).rejects.toThrow(/replies_depends_on_check/);
  });
});
