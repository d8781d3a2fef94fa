import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock/clock.js';
import { withTransaction, type Pool, type PoolClient } from '../db/database.js';
import { type ContractBreak, ImportError, UsageError } from '../errors/errors.js';
import { BulkPathRefused, bulkImport, isRefusal } from './bulkImport.js';
import { withBulkLoad } from './bulkLoad.js';
import { checkIntegrity } from './checkIntegrity.js';
import { CONTRACT } from './contract.js';
import { findRefusedRows } from './refusedRows.js';
import { createStagingTable, type StagedFile, stageFile, stagingTable, type Unread } from './stageFile.js';
import { maskPersonalData } from '../log/maskPersonalData.js';

/** Outcome of a successful import. */
export interface ImportResult {
  folder: string;
  files: StagedFile[];
  rows: number;
  /** 'bulk': PostgreSQL read the files; 'row-by-row': csv-parse and per-field checks did. */
  method: 'bulk' | 'row-by-row';
  /** Why the bulk path was left for the row-by-row one (null when it was not). */
  bulkRefused: string | null;
}

/** Progress of an import: bytes read by the bulk path, or rows checked by the row-by-row one. */
export interface ImportProgress {
  bytes?: number;
  rows?: number;
}

const KEEP_BREAKS = 1000;

/**
 * Imports a folder that follows the dossier CSV contract, all or nothing. The dossier tables
 * are REPLACED by the folder's content in one transaction (the folder is a full export: a
 * missing file means no rows), so importing the same folder twice is harmless.
 *
 * First the bulk path (src/import/bulkImport.ts: the tables are rebuilt beside the old ones by
 * PostgreSQL's own CSV reader, then swapped in one transaction). If it finds or suspects any
 * break, nothing of it remains and the row-by-row path runs: every file parsed by csv-parse and checked field by field, then
 * keys and references in SQL; then the rows are loaded, and a row the dossier database refuses
 * although the contract allows it (an index, a constraint or a trigger an administrator added:
 * refusedRows.ts) is a break too. Every break is reported through `onBreak` and an ImportError
 * is thrown with nothing changed (or, when the doubt was unfounded, the folder is imported).
 */
export async function importFolder(
  dossier: Pool,
  folder: string,
  onBreak: (b: ContractBreak) => void = () => undefined,
  onProgress: (p: ImportProgress) => void = () => undefined,
): Promise<ImportResult> {
  if (!existsSync(folder) || !(await fs.stat(folder)).isDirectory()) {
    throw new UsageError(`The import folder ${folder} does not exist or is not a folder.`);
  }
  const names = (await fs.readdir(folder)).filter((n) => n.endsWith('.csv'));
  const unknown = names.filter((n) => !CONTRACT.some((t) => t.file === n)).sort();
  const missing = CONTRACT.filter((t) => t.required && !names.includes(t.file));
  let refused: string;
  if (unknown.length > 0 || missing.length > 0) {
    refused = unknown.length > 0 ? `${unknown[0]} is not a file of the contract` : `${missing[0]!.file} is missing`;
  } else {
    try {
      let bytes = 0;
      const files = await bulkImport(dossier, folder, (n) => onProgress({ bytes: (bytes += n) }));
      return { folder, files, rows: files.reduce((n, f) => n + f.rows, 0), method: 'bulk', bulkRefused: null };
    } catch (err) {
      if (!(err instanceof BulkPathRefused) && !isRefusal(err)) throw err;
      refused = err instanceof BulkPathRefused ? err.reason : (err as Error).message;
    }
  }
  return importRowByRow(dossier, folder, unknown, refused, onBreak, onProgress);
}

async function importRowByRow(
  dossier: Pool,
  folder: string,
  unknown: readonly string[],
  bulkRefused: string,
  onBreak: (b: ContractBreak) => void,
  onProgress: (p: ImportProgress) => void,
): Promise<ImportResult> {
  const kept: ContractBreak[] = [];
  let breakCount = 0;
  // A reason may quote a field or a line (a data row taken for the header, an INSS in a date
  // column): masked here, so that no full INSS reaches the terminal, a log or the ImportError.
  const report = (raw: ContractBreak): void => {
    const b = { ...raw, reason: maskPersonalData(raw.reason) };
    breakCount++;
    if (kept.length < KEEP_BREAKS) kept.push(b);
    onBreak(b);
  };
  for (const name of unknown) {
    report({ file: name, line: 0, column: '(file)', reason: `not a file of the dossier CSV contract (expected ${CONTRACT.map((t) => t.file).join(', ')})` });
  }
  let staging = 0;
  const result = await withTransaction(dossier, async (client) => {
    const files: StagedFile[] = [];
    const staged = new Set<string>();
    const unread = new Map<string, Unread>();
    for (const spec of CONTRACT) {
      const filePath = path.join(folder, spec.file);
      if (!existsSync(filePath)) {
        if (!spec.required) continue;
        report({ file: spec.file, line: 0, column: '(file)', reason: 'required file is missing' });
        unread.set(spec.table, { cause: 'missing' });
        continue;
      }
      await createStagingTable(client, spec);
      const { staged: file, unread: cut } = await stageFile(client, spec, filePath, report, () => ++staging % 10_000 === 0 && onProgress({ rows: staging }));
      files.push(file);
      if (cut) unread.set(spec.table, cut);
      staged.add(spec.table);
    }
    await checkIntegrity(client, staged, unread, report);
    if (breakCount > 0) throw new ImportError(folder, breakCount, kept);
    await client.query('SAVEPOINT dossier_load');
    try {
      await load(client, staged);
    } catch (err) {
      // An index, a constraint or a trigger the contract does not know of refused a row.
      if (!isRefusal(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT dossier_load');
      if ((await findRefusedRows(client, staged, report)) === 0) throw err;
      throw new ImportError(folder, breakCount, kept);
    }
    return { folder, files, rows: files.reduce((n, f) => n + f.rows, 0), method: 'row-by-row' as const, bulkRefused };
  });
  return result;
}

/** Replaces the dossier tables' rows by the staged rows, keys and indexes built once at the end (withBulkLoad). */
async function load(client: PoolClient, staged: ReadonlySet<string>): Promise<void> {
  await client.query(`TRUNCATE ${CONTRACT.map((t) => `dossier.${t.table}`).join(', ')}`);
  await withBulkLoad(client, async () => {
    for (const spec of CONTRACT) {
      if (!staged.has(spec.table)) continue;
      const cols = spec.columns.map((c) => c.name).join(', ');
      await client.query(`INSERT INTO dossier.${spec.table} (${cols}) SELECT ${cols} FROM ${stagingTable(spec)} ORDER BY line`);
    }
  });
}

/** Records a successful import in the ledger. */
export async function recordImport(ledger: Pool, clock: Clock, startedAt: Date, result: ImportResult): Promise<void> {
  await ledger.query('INSERT INTO maillon.imports (folder, started_at, finished_at, rows, files) VALUES ($1, $2, $3, $4, $5)', [
    path.resolve(result.folder),
    startedAt,
    clock.now(),
    result.rows,
    JSON.stringify(result.files),
  ]);
}
