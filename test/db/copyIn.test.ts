import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRow, createCopyIn } from '../../src/db/copyIn.js';
import { withTransaction } from '../../src/db/database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

describe('createCopyIn', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('CREATE TABLE copied (n integer PRIMARY KEY, t text)');
  });
  afterAll(async () => db.drop());

  it('encodes a row: numbers as they are, null as \\N, backslashes, tabs and line ends escaped', () => {
    expect(copyRow([12, null, 'a\tb\\c\nd\re', undefined, 'plain'])).toBe('12\t\\N\ta\\tb\\\\c\\nd\\re\t\\N\tplain\n');
  });

  it('loads every line exactly, across chunk boundaries, with lines longer than a chunk and every UTF-8 width', async () => {
    const texts: string[] = [];
    for (let n = 0; n < 20_000; n++) {
      const word = ['Mertens', 'Lefèvre', 'Nguyễn', '€ 1 234,56', '😀', 'tab\there', 'back\\slash', 'line\nbreak'][n % 8]!;
      // Two lines far longer than a 256 KB chunk, one of them of 3-byte characters.
      texts.push(n === 7_000 ? 'x'.repeat(600_000) : n === 13_000 ? '€'.repeat(200_000) : word.repeat(1 + (n % 40)));
    }
    await withTransaction(db.pool, async (tx) => {
      const copy = createCopyIn(tx, 'COPY copied (n, t) FROM STDIN');
      for (const [n, t] of texts.entries()) {
        const w = copy.write(copyRow([n, t]));
        if (w) await w;
      }
      await copy.end();
    });
    const rows = await db.pool.query<{ n: number; t: string }>('SELECT n, t FROM copied ORDER BY n');
    expect(rows.rows.length).toBe(texts.length);
    for (const r of rows.rows) if (r.t !== texts[r.n]) expect(r.t, `line ${r.n}`).toBe(texts[r.n]);
  });

  it('aborts a COPY in progress: no row is kept and the connection runs the next statements', async () => {
    await db.pool.query('CREATE TABLE aborted (n integer)');
    const outcome = await withTransaction(db.pool, async (tx) => {
      await tx.query('SAVEPOINT before_copy');
      const copy = createCopyIn(tx, 'COPY aborted (n) FROM STDIN');
      for (let n = 0; n < 300_000; n++) {
        const w = copy.write(copyRow([n]));
        if (w) await w;
      }
      await copy.abort(new Error('the reply turned out malformed'));
      await tx.query('ROLLBACK TO SAVEPOINT before_copy');
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM aborted')).rows[0]!.n;
    });
    expect(outcome).toBe(0);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM aborted')).rows[0].n).toBe(0);
  });

  it('waits for the server through many chunks without piling up listeners on the COPY', async () => {
    await db.pool.query('CREATE TABLE drained (t text)');
    // A server slower than the writer (a row costs it about a millisecond): whatever the machine,
    // the socket fills and the COPY must wait for it many times.
    await db.pool.query(`CREATE FUNCTION drained_slowly() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.0002); RETURN NEW; END $$`);
    await db.pool.query('CREATE TRIGGER drained_slowly BEFORE INSERT ON drained FOR EACH ROW EXECUTE FUNCTION drained_slowly()');
    let drains = 0;
    let mostErrorListeners = 0;
    await withTransaction(db.pool, async (tx) => {
      // The COPY stream createCopyIn starts, kept to count its listeners.
      let stream: NodeJS.EventEmitter | undefined;
      const query = tx.query.bind(tx) as (q: unknown) => unknown;
      const spied = new Proxy(tx, {
        get: (target, key) =>
          key === 'query'
            ? (q: unknown) => {
                stream = query(q) as NodeJS.EventEmitter;
                stream.on('drain', () => drains++);
                return stream;
              }
            : (Reflect.get(target, key) as unknown),
      });
      const copy = createCopyIn(spied, 'COPY drained (t) FROM STDIN');
      // About 64 MB in 256 KB chunks: many are written only once the stream has drained.
      const line = copyRow(['y'.repeat(40_000)]);
      for (let n = 0; n < 1_600; n++) {
        const w = copy.write(line);
        if (w) await w;
        mostErrorListeners = Math.max(mostErrorListeners, stream?.listenerCount('error') ?? 0);
      }
      await copy.end();
    });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM drained')).rows[0].n).toBe(1_600);
    expect(drains).toBeGreaterThan(5);
    // Its own listener and the library's; one more per wait without the clean-up.
    expect(mostErrorListeners).toBeLessThanOrEqual(3);
  });
});
