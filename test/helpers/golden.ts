import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { ROOT } from './runHarness.js';
import { tools } from './systemTools.js';

/** A file a run produced: its name in the golden folder and where the run wrote it. */
export interface ProducedFile {
  name: string;
  path: string;
}

/** How a golden folder differs from what the runs produced (file names, sorted). */
export interface GoldenDifferences {
  /** Produced, with a golden file of other bytes. */
  changed: string[];
  /** Produced, without a golden file. */
  added: string[];
  /** Golden files that no run produced. */
  removed: string[];
}

const UPDATE_HINT = 'If the change is intended, run `npm run golden:update` and review `git diff fixtures/`.';

/**
 * Holds the complete set of files a flow's tests produce to `fixtures/<flow>/golden/`, byte for
 * byte: a changed file, a produced file without a golden one and a golden file no run produced
 * each fail the test. With MAILLON_UPDATE_GOLDEN=1 (`npm run golden:update` only: `npm test`
 * refuses it) the folder is rewritten to match instead, and what changed is printed.
 */
export async function expectGolden(flow: string, files: readonly ProducedFile[]): Promise<void> {
  const dir = path.join(ROOT, 'fixtures', flow, 'golden');
  const update = updateRequested(process.env);
  const differences = await checkGolden(dir, files, { update });
  if (update) console.log(describeUpdate(path.relative(ROOT, dir), differences));
}

/**
 * Update mode is MAILLON_UPDATE_GOLDEN set; refused in the full test run (MAILLON_FULL_RUN, which
 * `npm test` sets), where it would make every golden comparison pass.
 */
export function updateRequested(env: NodeJS.ProcessEnv): boolean {
  if (!env['MAILLON_UPDATE_GOLDEN']) return false;
  if (env['MAILLON_FULL_RUN']) {
    throw new Error('MAILLON_UPDATE_GOLDEN is set in the full test run: golden files are rewritten only by `npm run golden:update`. Unset it and run `npm test` again.');
  }
  return true;
}

/**
 * Compares `dir` with the produced files. Without `update`, throws an error that names every
 * difference (the first differing line of a changed file) and says how to accept it; with
 * `update`, rewrites the changed and added files and deletes the removed ones. Returns the
 * differences found before any rewrite.
 */
export async function checkGolden(dir: string, files: readonly ProducedFile[], options: { update: boolean }): Promise<GoldenDifferences> {
  const produced = new Map<string, Buffer>();
  for (const f of files) {
    if (produced.has(f.name)) throw new Error(`Two produced files are named ${f.name}: a golden folder holds one file per name.`);
    produced.set(f.name, await fs.readFile(f.path));
  }
  const golden = await readGoldenFolder(dir);
  const differences: GoldenDifferences = { changed: [], added: [], removed: [] };
  const firstLines: string[] = [];
  for (const [name, bytes] of [...produced].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const expected = golden.get(name);
    if (expected === undefined) differences.added.push(name);
    else if (!expected.equals(bytes)) {
      differences.changed.push(name);
      firstLines.push(`  ${name}: ${firstDifference(expected.toString('utf8'), bytes.toString('utf8'))}`);
    }
  }
  differences.removed = [...golden.keys()].filter((name) => !produced.has(name)).sort();
  if (options.update) await rewrite(dir, produced, differences);
  else if (hasDifferences(differences)) throw new Error(describeFailure(dir, differences, firstLines));
  return differences;
}

/** True when the folder and the produced files differ in any way. */
export function hasDifferences(d: GoldenDifferences): boolean {
  return d.changed.length + d.added.length + d.removed.length > 0;
}

/** Where two texts first differ: line and column, and both lines around that column. */
export function firstDifference(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return 'the same text, other bytes';
  const [x, y] = [a[i], b[i]];
  let column = 0;
  while (x !== undefined && y !== undefined && column < x.length && x[column] === y[column]) column++;
  return `line ${i + 1}, column ${column + 1}: golden ${excerpt(x, column)} · produced ${excerpt(y, column)}`;
}

function excerpt(line: string | undefined, column: number): string {
  if (line === undefined) return '(no line: the file ends before)';
  const start = Math.max(0, column - 40);
  const end = Math.min(line.length, column + 40);
  return `${start > 0 ? '…' : ''}${JSON.stringify(line.slice(start, end))}${end < line.length ? '…' : ''}`;
}

async function readGoldenFolder(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const e of entries) if (e.isFile()) out.set(e.name, await fs.readFile(path.join(dir, e.name)));
  return out;
}

async function rewrite(dir: string, produced: Map<string, Buffer>, d: GoldenDifferences): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const name of [...d.changed, ...d.added]) await fs.writeFile(path.join(dir, name), produced.get(name)!);
  for (const name of d.removed) await fs.rm(path.join(dir, name));
}

function describeFailure(dir: string, d: GoldenDifferences, firstLines: readonly string[]): string {
  const lines = [`The files produced differ from the golden files in ${path.relative(ROOT, dir) || dir}:`];
  if (d.changed.length > 0) lines.push(`changed: ${d.changed.join(', ')}`, ...firstLines);
  if (d.added.length > 0) lines.push(`produced without a golden file: ${d.added.join(', ')}`);
  if (d.removed.length > 0) lines.push(`golden files no run produced: ${d.removed.join(', ')}`);
  lines.push(UPDATE_HINT);
  return lines.join('\n');
}

/** The report of an update, one line per kind of change (or that nothing changed). */
export function describeUpdate(folder: string, d: GoldenDifferences): string {
  if (!hasDifferences(d)) return `golden:update ${folder}: unchanged`;
  const parts = [
    d.changed.length > 0 ? `changed ${d.changed.join(', ')}` : '',
    d.added.length > 0 ? `added ${d.added.join(', ')}` : '',
    d.removed.length > 0 ? `removed ${d.removed.join(', ')}` : '',
  ].filter((p) => p !== '');
  return `golden:update ${folder}: ${parts.join('; ')}. Review the diff before committing.`;
}

/**
 * Validates a file against a schema of `schemas/` with the xmllint binary (throws with its
 * output), or without it with xmllint-wasm, libxml2 compiled to WebAssembly (systemTools.ts).
 */
export async function xmllint(file: string, schema: string): Promise<void> {
  const xsd = path.isAbsolute(schema) ? schema : path.join(ROOT, 'schemas', schema);
  const binary = tools().xmllint;
  if (binary) execFileSync(binary, ['--noout', '--schema', xsd, file], { stdio: 'pipe' });
  else await createXsdValidator('wasm').validate([file], xsd);
}
