import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import { CONTRACT } from '../import/contract.js';
import type { LocalDate } from '../period/localDate.js';
import { lastDay, type Period, shiftPeriod } from '../period/period.js';
import { addIncapacityRequest, type AffiliateRows, generateRows } from './dossierRows.js';
import { generatePerson } from './person.js';
import { createRandom } from './random.js';

/** Options of the synthetic data generator. */
export interface GenerateOptions {
  affiliates: number;
  seed: number;
  out: string;
  /** Fraction (0..1) of affiliates given a domain error the pipelines must quarantine. */
  invalidRate: number;
  /** Last quarter with contributions; the window covers the 8 quarters up to it. */
  lastQuarter: Period;
  /** Last day with incapacity requests (the week up to it has them); default: the last quarter's last day. */
  lastRequestDay?: LocalDate;
  onProgress?: (done: number) => void;
}

/** Counts of generated rows per file, and the affiliates given a domain error. */
export interface GenerateResult {
  rows: Record<string, number>;
  invalidAffiliates: number;
}

/**
 * Beside the CSV files (not a CSV file, so the import ignores it): one line per affiliate given
 * a domain error, `<affiliate_id> <rule the flows must quarantine it under>`. The benchmark and
 * the tests compare the flows' quarantine with it.
 */
export const INVALID_LIST = 'invalid-affiliates.txt';
const FAULT_RULES = ['inss-check-digit', 'period-incoherent', 'activity-without-category'] as const;

interface Output {
  stringifier: Stringifier;
  file: WriteStream;
}

/**
 * Writes a dossier folder following the CSV contract, streaming: one affiliate at a time is
 * held in memory, so the memory used does not depend on the number of affiliates.
 */
export async function generateDataset(opts: GenerateOptions): Promise<GenerateResult> {
  await fs.mkdir(opts.out, { recursive: true });
  const outputs = new Map<string, Output>();
  for (const spec of CONTRACT) {
    const file = createWriteStream(path.join(opts.out, spec.file), { mode: 0o600 });
    const stringifier = stringify({ header: true, columns: spec.columns.map((c) => c.name), quoted_match: /^\s|\s$/ });
    stringifier.pipe(file);
    outputs.set(spec.table, { stringifier, file });
  }
  const counts: Record<string, number> = Object.fromEntries(CONTRACT.map((t) => [t.file, 0]));
  const rnd = createRandom(opts.seed);
  const firstQuarter = shiftPeriod(opts.lastQuarter, -7);
  // The requests have their own sequence (seeded from the seed): the other files do not change with them.
  const requestRnd = createRandom(~opts.seed);
  const lastRequestDay = opts.lastRequestDay ?? lastDay(opts.lastQuarter);
  let invalid = 0;
  const invalidList = opts.invalidRate > 0 ? createWriteStream(path.join(opts.out, INVALID_LIST), { mode: 0o600 }) : null;
  for (let i = 1; i <= opts.affiliates; i++) {
    const faulty = opts.invalidRate > 0 && rnd.chance(opts.invalidRate);
    const faultKind = faulty ? rnd.int(0, 2) : -1;
    if (faulty) invalid++;
    const person = generatePerson(i, rnd, faultKind === 0);
    const rows = generateRows(person, i, rnd, {
      firstQuarter,
      lastQuarter: opts.lastQuarter,
      fault: faultKind === 1 ? 'incoherent-period' : faultKind === 2 ? 'activity-without-category' : null,
    });
    addIncapacityRequest(rows, person, i, requestRnd, lastRequestDay);
    await write(outputs.get('affiliates')!, [person.row], counts, 'affiliates.csv');
    if (invalidList && faulty && !invalidList.write(`${person.affiliateId} ${FAULT_RULES[faultKind]}\n`)) await once(invalidList, 'drain');
    for (const spec of CONTRACT.slice(1)) {
      await write(outputs.get(spec.table)!, rows[spec.table as keyof AffiliateRows], counts, spec.file);
    }
    if (opts.onProgress && i % 500 === 0) opts.onProgress(i);
  }
  for (const { stringifier, file } of outputs.values()) {
    stringifier.end();
    await finished(file);
  }
  if (invalidList) {
    invalidList.end();
    await finished(invalidList);
  }
  return { rows: counts, invalidAffiliates: invalid };
}

async function write(out: Output, rows: readonly (readonly unknown[])[], counts: Record<string, number>, file: string): Promise<void> {
  for (const row of rows) {
    counts[file] = (counts[file] ?? 0) + 1;
    if (!out.stringifier.write(row)) await once(out.stringifier, 'drain');
  }
}
