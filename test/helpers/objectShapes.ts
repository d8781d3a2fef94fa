/**
 * Run by test/engine/objectShapes.test.ts in a Node started with --allow-natives-syntax: counts
 * the hidden classes (V8 maps) of the objects that the engine hands every record's renderer. A
 * flow's records, and the identities given with them, should share a few maps whatever their
 * number; an object made by `{ ...other, extra }` gets a map of its own each time, and every
 * property cache that sees such objects then misses on every record. Prints the counts as JSON.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RecordIdentity, XmlOutput } from '../../src/engine/pipeline.js';
import { createReceiverFiles } from '../../src/engine/receiverFiles.js';
import { createRecordRenderer } from '../../src/engine/recordRenderer.js';
import { parseLocalDate } from '../../src/period/localDate.js';
import { parsePeriod } from '../../src/period/period.js';
import type { FileContext } from '../../src/render/envelope.js';
import { placeholderFund } from '../../src/config/fundConfig.js';
import { validateRow } from '../../src/validate/validateRow.js';
import { type TaxRecord, taxAttestations } from '../../pipelines/taxAttestations.js';

const N = 200;
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- V8's %HaveSameMap exists only as source text (--allow-natives-syntax)
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: unknown, b: unknown) => boolean;

/** How many distinct maps the objects have. */
function maps(objects: unknown[]): number {
  const seen: unknown[] = [];
  for (const o of objects) if (!seen.some((s) => sameMap(s, o))) seen.push(o);
  return seen.length;
}

const period = parsePeriod('2025');
const NAMES = ['Janssens', 'Nguyễn', 'Cœur', 'Peeters', "O'Brien & Fils"];
// Rows as the extraction hands them: one JSON text each, parsed.
const rows = Array.from(
  { length: N },
  (_, i) =>
    JSON.parse(
      JSON.stringify({
        affiliateId: `A${String(i + 1).padStart(9, '0')}`,
        inss: '80102880409',
        lastName: NAMES[i % NAMES.length],
        firstName: 'Gaëlle',
        language: (['fr', 'nl', 'de'] as const)[i % 3],
        street: `Rue du Marché ${i}`,
        postalCode: '1000',
        city: 'Bruxelles',
        country: 'BE',
        amount: 1000 + i,
        quarters: [{ quarter: '2025-Q1', amount: 1000 + i }],
      }),
    ) as unknown,
);
const records: TaxRecord[] = rows.map((raw) => {
  const verdict = validateRow(raw, taxAttestations.row, taxAttestations.rules);
  if (!verdict.ok) throw new Error(`row refused: ${JSON.stringify(verdict.violation)}`);
  return taxAttestations.toRecord(verdict.row, { period, asOfDay: parseLocalDate('2025-12-31') });
});

// The identities the XML writer hands the record renderer, for identities made as the engine makes them.
const identities: RecordIdentity[] = [];
const output: XmlOutput<TaxRecord> = {
  kind: 'xml',
  schema: 'none.xsd',
  envelope: { start: () => '<Recs>\n', totals: () => null, add: () => undefined, end: () => '</Recs>\n' },
  record: (_rec, id) => {
    identities.push(id);
    return '<R/>';
  },
};
const file: FileContext = {
  fund: placeholderFund(),
  sender: '012345',
  receiver: 'SPFFIN',
  environment: 'T',
  period,
  periodCode: '2025',
  asOf: new Date('2025-12-31T23:59:59Z'),
  creationDate: parseLocalDate('2026-01-20'),
  creationHour: '02:00:00',
  version: 0,
};
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-shapes-'));
try {
  const renderer = createRecordRenderer('shapes', output, () => undefined);
  const files = createReceiverFiles({ pipeline: { ...taxAttestations, output }, renderer, context: () => file, creationDate: file.creationDate, tmpDir: dir, runId: 1 });
  for (const [i, rec] of records.entries()) {
    const rendered = files.render('SPFFIN', rec, `2025${String(i + 1).padStart(9, '0')}`, 0);
    const writer = await files.writer('SPFFIN');
    writer.add(rec, rendered);
  }
  await files.discard();
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ taxRecords: { count: records.length, maps: maps(records) }, identities: { count: identities.length, maps: maps(identities) } }));
