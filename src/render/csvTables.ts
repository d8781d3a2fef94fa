import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { CsvTablesOutput } from './outputContracts.js';
import { SchemaConformanceError } from '../errors/errors.js';
import type { WrittenPart } from './receiverWriter.js';

/** Columns of the manifest written with every CSV-tables submission. */
export const MANIFEST_COLUMNS = ['table', 'rows', 'source_records', 'column', 'sum'] as const;

/**
 * Writes each table as a CSV file (header + rows) and the manifest (rows, source records and
 * the sum of every summed column per table, then the quarantined records), mode 0600.
 */
export async function writeCsvTables(
  output: CsvTablesOutput<unknown>,
  state: unknown,
  counts: ReadonlyMap<string, number>,
  quarantined: number,
  receiver: string,
  tmpDir: string,
  stem: string,
): Promise<WrittenPart[]> {
  const parts: WrittenPart[] = [];
  const manifest: (string | number)[][] = [];
  for (const table of output.tables) {
    const rows = output.rows(state, table.name);
    const text = stringify([table.columns.map((c) => c.name), ...rows]);
    const tmpPath = path.join(tmpDir, `${stem}-${table.name}.csv.part`);
    parts.push(await writePart(tmpPath, text, `${receiver}#${table.name}`, counts.get(table.name) ?? 0));
    const sums = table.columns.flatMap((c, i) => (c.sum ? [[c.name, rows.reduce((n, r) => n + Number(r[i]), 0)] as const] : []));
    if (sums.length === 0) manifest.push([table.name, rows.length, counts.get(table.name) ?? 0, '', '']);
    for (const [column, sum] of sums) manifest.push([table.name, rows.length, counts.get(table.name) ?? 0, column, sum]);
  }
  manifest.push(['quarantined', '', quarantined, '', '']);
  const manifestPath = path.join(tmpDir, `${stem}-manifest.csv.part`);
  parts.push(await writePart(manifestPath, stringify([[...MANIFEST_COLUMNS], ...manifest]), `${receiver}#manifest`, 0));
  return parts;
}

async function writePart(tmpPath: string, text: string, fileKey: string, records: number): Promise<WrittenPart> {
  const buf = Buffer.from(text, 'utf8');
  const handle = await fs.open(tmpPath, 'wx', 0o600);
  try {
    await handle.write(buf);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { fileKey, format: 'csv', tmpPath, records, bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
}

/**
 * Re-reads the written tables and checks the manifest against them: row counts and every
 * column sum. Throws when they disagree (nothing is then published).
 */
export async function verifyManifest(output: CsvTablesOutput<unknown>, parts: readonly WrittenPart[]): Promise<void> {
  const manifestPart = parts.find((p) => p.fileKey.endsWith('#manifest'))!;
  const manifest = parse<Record<string, string>>(await fs.readFile(manifestPart.tmpPath), { columns: true });
  for (const table of output.tables) {
    const part = parts.find((p) => p.fileKey.endsWith(`#${table.name}`))!;
    const rows = parse<Record<string, string>>(await fs.readFile(part.tmpPath), { columns: true });
    for (const line of manifest.filter((m) => m['table'] === table.name)) {
      const problems: string[] = [];
      if (Number(line['rows']) !== rows.length) problems.push(`${line['rows']} rows announced, ${rows.length} found`);
      const column = line['column'];
      if (column) {
        const sum = rows.reduce((n, r) => n + Number(r[column]), 0);
        if (Number(line['sum']) !== sum) problems.push(`sum of ${column} announced ${line['sum']}, computed ${sum}`);
      }
      if (problems.length) throw new SchemaConformanceError(path.basename(part.tmpPath), 'manifest', problems.join('; '));
    }
  }
}
