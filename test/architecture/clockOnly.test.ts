import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from './folderGraph.js';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * Ways of reading the current time: in TypeScript (`Date.now()`, `new Date()` with no argument,
 * `Date()` called as a function, `performance.now()`, `Temporal.Now`) and in SQL (`now()`,
 * `current_timestamp`, `current_date`, `localtimestamp`, `clock_timestamp()`…). `clock.now()`
 * (a method of an object) is how the rest of the code asks the clock, so a `.` before `now(` is
 * allowed.
 */
const readsTime: readonly RegExp[] = [
  /\bDate\.now\s*\(/,
  /\bnew\s+Date\s*\(\s*\)/,
  /(?<![\w.])Date\s*\(\s*\)/,
  /\bperformance\.now\s*\(/,
  /\bTemporal\.Now\b/,
  /(?<![\w.])now\s*\(\s*\)/i,
  /\b(current_timestamp|current_date|current_time|localtimestamp|localtime|clock_timestamp|statement_timestamp|transaction_timestamp)\b/i,
];

/** `file:line: text` for every line of the given files that reads the time, outside src/clock/. */
function timeReadsOutsideClock(files: readonly string[]): string[] {
  const hits: string[] = [];
  for (const file of files) {
    const rel = path.relative(root, file);
    if (rel.startsWith(`src${path.sep}clock${path.sep}`)) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (readsTime.some((re) => re.test(line))) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
  }
  return hits;
}

describe('the clock is the only source of time', () => {
  it('nothing in src/ or pipelines/ outside src/clock/ reads the current time (pass the instant from the clock)', () => {
    const files = [...sourceFiles(path.join(root, 'src')), ...sourceFiles(path.join(root, 'pipelines'))];
    const hits = timeReadsOutsideClock(files);
    expect(hits, `read the time from the Clock (src/clock/clock.ts) instead:\n${hits.join('\n')}`).toEqual([]);
  });

  it('recognises each way of reading the time, in TypeScript and in SQL, and lets clock.now() through', () => {
    const probe = (line: string): boolean => readsTime.some((re) => re.test(line));
    for (const line of [
      'const t = Date.now();',
      'mtime: Date = new Date()',
      'const s = Date();',
      'const t0 = performance.now();',
      "await q('UPDATE maillon.runs SET ended_at = now() WHERE id = $1')",
      "await q('INSERT INTO x (at) VALUES (CURRENT_TIMESTAMP)')",
      'WHERE day <= current_date',
    ])
      expect(probe(line), line).toBe(true);
    for (const line of ['const at = clock.now();', 'o.clock.now().toISOString()', 'new Date(row.at)', 'new Date(Date.UTC(y, m, 0))', '// knowing']) expect(probe(line), line).toBe(false);
  });
});
