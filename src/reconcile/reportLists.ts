import type { Pool } from '../db/database.js';
import { copyOutText, extractRows } from '../extract/extractRows.js';

/**
 * One of a report's long lists, as SQL: which rows, in which order, and what an item holds. The
 * same definition gives the items (for the text report, and the first ones for the HTML report)
 * and the text PostgreSQL writes itself for the CSV and JSON reports, so the two cannot drift apart.
 */
export interface ListSql {
  /** `FROM … WHERE …` of the list's rows. */
  from: string;
  orderBy: string;
  /** The item's keys and the SQL of their values, in the item's order (text or boolean values). */
  fields: readonly (readonly [key: string, sql: string])[];
  /** The list's CSV row: the SQL of each column (text), the section's name first. */
  csv: readonly string[];
  /** Keep the first ones only. */
  limit?: number;
}

/**
 * The first characters that make a spreadsheet read a text cell as a formula (OWASP, "CSV
 * Injection"): = + - @ TAB CR, and the full-width ＝ ＋ － ＠ that Apple Numbers reads as them.
 * They are exactly those of csv-stringify 6.9's `escape_formulas`, which puts a single quote
 * before such a cell unless it is a number (a negative number stays a number, not a formula).
 */
export const FORMULA_STARTS: readonly string[] = ['=', '+', '-', '@', '\t', '\r', '\uff1d', '\uff0b', '\uff0d', '\uff20'];

/** csv-stringify's options for every row of a report's CSV: a formula from the data is written as text. */
export const REPORT_CSV_OPTIONS = { escape_formulas: true } as const;

/**
 * The SQL of a text cell as csv-stringify writes it with {@link REPORT_CSV_OPTIONS}: a single
 * quote before it when it starts with one of {@link FORMULA_STARTS}; NULL stays NULL. `ascii()`
 * gives the first character's code point in a UTF-8 database (the dossier's text is Unicode).
 */
export function formulaSafeSql(cell: string): string {
  return `CASE WHEN ascii(${cell}) IN (${FORMULA_STARTS.map((c) => c.codePointAt(0)).join(', ')}) THEN '''' || ${cell} ELSE ${cell} END`;
}

/** A list written by PostgreSQL: no row of it becomes a JavaScript object on the way out. */
export interface ListText {
  /** The CSV rows, byte for byte as csv-stringify writes them with {@link REPORT_CSV_OPTIONS}. */
  csv(): AsyncIterable<string>;
  /** The JSON array, byte for byte as `JSON.stringify(…, null, 2)` writes it at `indent`. */
  json(indent: string): AsyncIterable<string>;
}

/** The list's items, read when iterated. */
export function listItems<T>(pool: Pool, list: ListSql): AsyncIterable<T> {
  const sql = `SELECT json_build_object(${list.fields.map(([key, value]) => `'${key}', ${value}`).join(', ')}) ${list.from}${tail(list)}`;
  return { [Symbol.asyncIterator]: () => extractRows(pool, sql) as AsyncGenerator<T> };
}

/** The list's text, read when iterated. */
export function listText(pool: Pool, list: ListSql): ListText {
  return {
    // PostgreSQL quotes a field when csv-stringify does (it holds a comma, a quote, CR or LF) but
    // writes an empty string as "": an empty one is sent as NULL, which it writes empty. A formula
    // gets its quote first, as csv-stringify puts it before deciding to quote.
    csv: () => copyOutText(pool, `SELECT ${list.csv.map((c) => `nullif(${formulaSafeSql(c)}, '')`).join(', ')} ${list.from}${tail(list)}`, 'FORMAT csv'),
    json: (indent) => jsonArray(copyOutText(pool, `SELECT ${jsonItem(list.fields, indent)} ${list.from}${tail(list)}`, JSON_ROWS), indent),
  };
}

const tail = (list: ListSql): string => ` ORDER BY ${list.orderBy}${list.limit === undefined ? '' : ` LIMIT ${Math.trunc(list.limit)}`}`;

// One row per item, each quoted whole by a byte that JSON text never holds raw (to_json escapes
// every control character): the quotes are taken out, what is left is the item's text.
const QUOTE = '\x01';
const JSON_ROWS = `FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01', FORCE_QUOTE *`;

/**
 * An item as `JSON.stringify(item, null, 2)` writes it inside an array at `indent`, followed by a
 * comma: to_json escapes a string as JSON.stringify does (the quote, the backslash, \b \f \n \r
 * \t, every other control character as \u00xx), a NULL is `null`.
 */
function jsonItem(fields: ListSql['fields'], indent: string): string {
  if (!/^ *$/.test(indent)) throw new Error(`a JSON indentation is spaces, not ${JSON.stringify(indent)}`);
  const inner = `${indent}  `;
  const lines = fields.map(([key, value], i) => `'${inner}  "${key}": ' || coalesce(to_json(${value})::text, 'null')${i < fields.length - 1 ? ` || ','` : ''}`);
  return [`'${inner}{'`, ...lines, `'${inner}},'`].join(` || E'\\n' || `);
}

/** The rows as one JSON array: `[`, the items (the last one's comma dropped), `]`; `[]` when none. */
async function* jsonArray(rows: AsyncIterable<string>, indent: string): AsyncGenerator<string> {
  let started = false;
  // A piece's trailing "," or ",\n" may be the last item's, not the array's: it is held back
  // until more comes. Only those ASCII characters are held: a piece never ends in half of a
  // character of two UTF-16 units (written on its own, each half would become U+FFFD).
  let held = '';
  for await (const piece of rows) {
    const text = held + piece.replaceAll(QUOTE, '');
    const keep = text.endsWith(',\n') ? 2 : text.endsWith(',') ? 1 : 0;
    held = text.slice(text.length - keep);
    if (text.length > keep) {
      yield `${started ? '' : '[\n'}${text.slice(0, text.length - keep)}`;
      started = true;
    }
  }
  if (!started && held === '') {
    yield '[]';
    return;
  }
  if (!started || held !== ',\n') throw new Error('the list did not end with an item');
  yield `\n${indent}]`;
}
