import type { PoolClient } from '../db/database.js';
import type { ContractBreak } from '../errors/errors.js';
import { CONTRACT, type TableSpec } from './contract.js';
import { quoteText } from './quoteText.js';
import { stagingTable, type Unread } from './stageFile.js';

/** The most characters of an identifier quoted in a break (one may hold 2,600 bytes; its line is named). */
const KEY_SHOWN = 80;

/**
 * Reports duplicate keys and references to unknown rows across the staged files (`staged`: their
 * tables). A reference into a file that was not read to its end (`unread`, by table) and that
 * finds no row among the rows read is not called unknown: it may point past the cut. Those are
 * counted instead, one break per referring file and column, naming the cause.
 */
export async function checkIntegrity(client: PoolClient, staged: ReadonlySet<string>, unread: ReadonlyMap<string, Unread>, onBreak: (b: ContractBreak) => void): Promise<void> {
  for (const spec of CONTRACT) {
    if (!staged.has(spec.table)) continue;
    if (spec.key) await checkDuplicates(client, spec, spec.key, onBreak);
    for (const ref of spec.references) {
      const target = CONTRACT.find((t) => t.table === ref.table)!;
      const targetSql = staged.has(target.table) ? stagingTable(target) : null;
      const notFound = `FROM ${stagingTable(spec)} s
        WHERE s.${ref.column} IS NOT NULL
          ${targetSql ? `AND NOT EXISTS (SELECT 1 FROM ${targetSql} t WHERE t.${ref.targetColumn} = s.${ref.column})` : ''}`;
      const cut = unread.get(target.table);
      if (cut) {
        const res = await client.query<{ n: number; first: number | null }>(`SELECT count(*)::int AS n, min(s.line) AS first ${notFound}`);
        const { n, first } = res.rows[0]!;
        if (n > 0) onBreak({ file: spec.file, line: 0, column: ref.column, reason: uncheckedReferences(n, first!, target.file, cut) });
        continue;
      }
      const res = await client.query<{ line: number; value: string }>(`SELECT s.line, s.${ref.column} AS value ${notFound} ORDER BY s.line`);
      for (const r of res.rows) {
        onBreak({ file: spec.file, line: r.line, column: ref.column, reason: `unknown ${ref.targetColumn} ${quoteText(r.value, KEY_SHOWN)}: not in ${target.file}` });
      }
    }
  }
}

/** Why `count` references, the first at line `first`, could not be checked against `file`. */
function uncheckedReferences(count: number, first: number, file: string, unread: Unread): string {
  const which = count === 1 ? `1 reference could not be checked (at line ${first})` : `${count.toLocaleString('en-US')} references could not be checked (the first at line ${first})`;
  switch (unread.cause) {
    case 'csv':
      return `${which}: not found in ${file} before line ${unread.line}, which could not be read from there on (see its break)`;
    case 'header':
      return `${which}: ${file} does not have the contract's header, so none of its rows were checked (see its break)`;
    case 'empty':
      return `${which}: ${file} is empty (see its break)`;
    case 'missing':
      return `${which}: ${file} is missing`;
  }
}

async function checkDuplicates(client: PoolClient, spec: TableSpec, key: readonly string[], onBreak: (b: ContractBreak) => void): Promise<void> {
  const cols = key.join(', ');
  const res = await client.query<{ line: number; first_line: number; value: string }>(
    `SELECT line, first_line, value FROM (
       SELECT line, min(line) OVER w AS first_line, row_number() OVER w AS n, concat_ws(', ', ${cols}) AS value
       FROM ${stagingTable(spec)}
       WHERE ${key.map((k) => `${k} IS NOT NULL`).join(' AND ')}
       WINDOW w AS (PARTITION BY ${cols} ORDER BY line)
     ) d WHERE n > 1 ORDER BY line`,
  );
  for (const r of res.rows) {
    onBreak({ file: spec.file, line: r.line, column: key.join('+'), reason: `duplicate key ${quoteText(r.value, KEY_SHOWN)}, first at line ${r.first_line}` });
  }
}
