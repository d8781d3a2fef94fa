import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CONTRACT } from '../../src/import/contract.js';
import { DOSSIER_2024 } from './flowFixture.js';

/** A dossier folder's files as lines, the header first (by default the hand-checked 2024 dossier). */
export function dossierFiles(folder = DOSSIER_2024): Record<string, string[]> {
  const files: Record<string, string[]> = {};
  for (const spec of CONTRACT) {
    files[spec.file] = readFileSync(path.join(folder, spec.file), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  }
  return files;
}

/** A CSV line with its field `index` replaced by `value` (fields without commas or quotes). */
export function setField(line: string, index: number, value: string): string {
  const fields = line.split(',');
  fields[index] = value;
  return fields.join(',');
}

/** Text PostgreSQL cannot compress into an index entry (random letters and digits), `n` bytes long. */
export const incompressible = (n: number): string => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);

/** Writes dossier folders under `dir`, one new subfolder per call, each file's lines ended by `eol`. */
export function folderWriter(dir: string): (files: Record<string, string[]>, eol?: string) => Promise<string> {
  let n = 0;
  return async (files, eol = '\n') => {
    const folder = path.join(dir, `f${++n}`);
    await fs.mkdir(folder);
    for (const [name, lines] of Object.entries(files)) await fs.writeFile(path.join(folder, name), `${lines.join(eol)}${eol}`);
    return folder;
  };
}
