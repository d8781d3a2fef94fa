import path from 'node:path';
import type { PoolClient } from '../db/database.js';
import { withBulkLoad } from './bulkLoad.js';
import { bulkInsertSql } from './bulkInsertSql.js';
import { CONTRACT, type TableSpec } from './contract.js';
import { copyRawFile, createRawTable } from './copyRawFile.js';
import type { StagedFile } from './stageFile.js';

/** The bulk path found the folder not to conform, or could not be sure it does. */
export class BulkPathRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * The bulk path of an import, inside the caller's transaction: every file goes unchanged into
 * an all-text table through PostgreSQL's CSV reader, then into its dossier table with one
 * converting INSERT per file, keys and references rebuilt afterwards. It never reports a break:
 * on the first sign of one it throws BulkPathRefused (or PostgreSQL raises a data or integrity
 * error), the caller rolls back and imports row by row, which reports every break with its line.
 */
export async function bulkImport(
  client: PoolClient,
  folder: string,
  specs: readonly TableSpec[],
  onBytes: (n: number) => void,
): Promise<StagedFile[]> {
  await client.query(`SET LOCAL DateStyle = 'ISO, YMD'`);
  await client.query(`SET LOCAL maintenance_work_mem = '256MB'`);
  const files: StagedFile[] = [];
  for (const spec of specs) {
    await createRawTable(client, spec);
    const copied = await naming(spec, copyRawFile(client, spec, path.join(folder, spec.file), onBytes));
    if (copied.doubt !== null) throw new BulkPathRefused(`${spec.file}: ${copied.doubt}`);
    files.push({ file: spec.file, rows: copied.rows, sha256: copied.sha256 });
  }
  await client.query(`TRUNCATE ${CONTRACT.map((t) => `dossier.${t.table}`).join(', ')}`);
  await withBulkLoad(client, async () => {
    for (const [i, spec] of specs.entries()) {
      const res = await naming(spec, client.query(bulkInsertSql(spec)));
      const rows = files[i]!.rows;
      if (res.rowCount !== rows) throw new BulkPathRefused(`${spec.file}: ${rows - (res.rowCount ?? 0)} row(s) break a column's type`);
    }
  });
  return files;
}

/** Turns PostgreSQL's data and integrity errors on a file into a refusal that names the file. */
async function naming<T>(spec: TableSpec, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (err) {
    if (isDataError(err)) throw new BulkPathRefused(`${spec.file}: ${(err as Error).message}`);
    throw err;
  }
}

/** True for PostgreSQL's data exceptions (class 22) and integrity violations (class 23). */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
