import path from 'node:path';
import type { PoolClient } from '../db/database.js';
import { withBulkLoad } from './bulkLoad.js';
import { CONTRACT, type TableSpec } from './contract.js';
import { copyFile } from './copyFile.js';
import { minimumChecks } from './lineFormat.js';
import type { StagedFile } from './stageFile.js';

/** The bulk path found the folder not to conform, or could not be sure it does. */
export class BulkPathRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * The bulk path of an import, inside the caller's transaction: the dossier tables are emptied,
 * their keys and indexes dropped, every file goes unchanged into its table through PostgreSQL's
 * CSV reader while this thread checks each record against the contract, then the minimum values,
 * keys and references are checked as the keys are rebuilt. It never reports a break: on the
 * first sign of one it throws BulkPathRefused (or PostgreSQL raises a data or integrity error),
 * the caller rolls back and imports row by row, which reports every break with its line.
 *
 * What is checked where (test/import/bulkPath.test.ts breaks every column to prove it):
 * - the form of every field: the line format or csv-parse with the field checks (copyFile.ts);
 * - days that do not exist (2023-02-30): PostgreSQL's date conversion;
 * - digits, enumerations, months, quarters, countries, amounts above 0, required fields: also
 *   the dossier tables' CHECK and NOT NULL constraints;
 * - minimum values: one query per column after the load;
 * - duplicate keys and unknown references: the primary and foreign keys rebuilt after the load.
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
  await client.query(`TRUNCATE ${CONTRACT.map((t) => `dossier.${t.table}`).join(', ')}`);
  await withBulkLoad(client, async () => {
    for (const spec of specs) {
      const copied = await naming(spec, copyFile(client, spec, path.join(folder, spec.file), onBytes));
      if (copied.doubt !== null) throw new BulkPathRefused(`${spec.file}: ${copied.doubt}`);
      files.push({ file: spec.file, rows: copied.rows, sha256: copied.sha256 });
      for (const { column, min } of minimumChecks(spec)) {
        const below = await client.query(`SELECT 1 FROM dossier.${spec.table} WHERE ${column} < $1 LIMIT 1`, [min]);
        if (below.rowCount) throw new BulkPathRefused(`${spec.file}: a ${column} below ${min}`);
      }
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
