import type { PoolClient } from '../db/database.js';
import type { ContractBreak } from '../errors/errors.js';
import { CONTRACT, type TableSpec } from './contract.js';
import { stagingTable } from './stageFile.js';

/** Reports duplicate keys and references to unknown rows across the staged files. */
export async function checkIntegrity(client: PoolClient, staged: ReadonlySet<string>, onBreak: (b: ContractBreak) => void): Promise<void> {
  for (const spec of CONTRACT) {
    if (!staged.has(spec.table)) continue;
    if (spec.key) await checkDuplicates(client, spec, spec.key, onBreak);
    for (const ref of spec.references) {
      const target = CONTRACT.find((t) => t.table === ref.table)!;
      const targetSql = staged.has(target.table) ? stagingTable(target) : null;
      const sql = `SELECT s.line, s.${ref.column} AS value FROM ${stagingTable(spec)} s
        WHERE s.${ref.column} IS NOT NULL
          ${targetSql ? `AND NOT EXISTS (SELECT 1 FROM ${targetSql} t WHERE t.${ref.targetColumn} = s.${ref.column})` : ''}
        ORDER BY s.line`;
      const res = await client.query<{ line: number; value: string }>(sql);
      for (const r of res.rows) {
        onBreak({ file: spec.file, line: r.line, column: ref.column, reason: `unknown ${ref.targetColumn} "${r.value}": not in ${target.file}` });
      }
    }
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
    onBreak({ file: spec.file, line: r.line, column: key.join('+'), reason: `duplicate key "${r.value}", first at line ${r.first_line}` });
  }
}
