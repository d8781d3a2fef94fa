import { createReadStream, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { allowanceCertificates } from '../../pipelines/allowanceCertificates.js';
import { belcotax28118 } from '../../pipelines/belcotax28118.js';
import { career } from '../../pipelines/career.js';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { statistics } from '../../pipelines/statistics.js';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import { isBlank } from '../../src/domain/blankText.js';
import { documentNameProblem } from '../../src/engine/documents.js';
import type { AnyPipeline } from '../../src/engine/pipeline.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { CONTRACT } from '../../src/import/contract.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { DOSSIER_2024 } from '../helpers/flowFixture.js';
import { xmllint } from '../helpers/golden.js';
import { runDeps, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase } from '../helpers/testDatabase.js';

/**
 * Property: whatever text the CSV contract accepts, every flow runs, accounts for every record
 * (emitted + quarantined = extracted), writes files that pass their XSD (real xmllint) and whose
 * texts read back equal through an XML parser; Belcotax's totals hold. The 2024 dossier is
 * imported with its identifiers, names, addresses, allowance references and company names
 * replaced by generated text: any Unicode plane, line breaks (LF, CR, CRLF), tabs, quotes, `&`,
 * `<`, `]]>`, lengths around and beyond the schemas' limits.
 *
 * Bounded here (MAILLON_PROPERTY_RUNS, default 10: seconds to half a minute); a long run is
 *   MAILLON_PROPERTY_RUNS=200 npx vitest run test/pipelines/dossierText.property.test.ts
 * (MAILLON_PROPERTY_SEED replays a reported seed).
 */
const RUNS = Number(process.env['MAILLON_PROPERTY_RUNS'] ?? 10);
const SEED = process.env['MAILLON_PROPERTY_SEED'] ? Number(process.env['MAILLON_PROPERTY_SEED']) : undefined;
const NOW = '2025-01-10T02:00:00+01:00';
const FLOWS: [AnyPipeline, string][] = [
  [career, '2024-Q1'],
  [contributionSlips, '2024-Q1'],
  [taxAttestations, '2024'],
  [belcotax28118, '2024'],
  [allowanceCertificates, '2024-03'],
  [allowanceCertificates, '2018-12'],
  [statistics, '2024-Q1'],
];

// What XML 1.0 cannot carry: the contract refuses it at import (test/import/refusedBytes.test.ts).
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const TOKENS = [
  '\n',
  '\r\n',
  '\r',
  '\t',
  '"',
  '""',
  "'",
  '&',
  '&amp;',
  '&#10;',
  '<',
  '>',
  ']]>',
  '<![CDATA[',
  ',',
  ' ',
  '  ',
  '\\.',
  '\u0085',
  '\u2028',
  '\uFEFF',
  '\uFFFD',
  '\uE000',
  'é',
  'ß',
  '😀',
  '\u{10FFFF}',
  '/',
  '.',
];
/** One character, of any plane, that XML can carry. */
const char = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !FORBIDDEN.test(c)) },
  { weight: 1, arbitrary: fc.constantFrom('a', 'é', '😀', ' ', '\n', '\t', '&', '<') },
);
/** Text a contract field accepts (not empty): short and tricky, or about a schema's limit (in characters), or far beyond. */
const text = fc.oneof(
  { weight: 16, arbitrary: fc.array(fc.oneof(fc.constantFrom(...TOKENS), char), { minLength: 1, maxLength: 12 }).map((p) => p.join('')) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 38, max: 42 })
      .chain((n) => fc.array(char, { minLength: n, maxLength: n }))
      .map((p) => p.join('')),
  },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 198, max: 202 })
      .chain((n) => fc.array(char, { minLength: n, maxLength: n }))
      .map((p) => p.join('')),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(290, 304)
      .chain((n) => fc.array(char, { minLength: n, maxLength: n }))
      .map((p) => p.join('')),
  },
);
const identifier = fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[A-Z][0-9]{1,3}$/) }, { weight: 2, arbitrary: text });
const person = fc.record({
  last_name: text,
  first_name: text,
  street: text,
  postal_code: fc.oneof(fc.stringMatching(/^[1-9][0-9]{3}$/), text),
  city: text,
  country: fc.constantFrom('BE', 'BE', 'FR', 'NL', 'LU'),
});
const dossier = fc.record({
  affiliateIds: fc.uniqueArray(identifier, { minLength: 11, maxLength: 11 }),
  allowanceIds: fc.uniqueArray(identifier, { minLength: 15, maxLength: 15 }),
  persons: fc.array(person, { minLength: 11, maxLength: 11 }),
  companies: fc.array(text, { minLength: 4, maxLength: 4 }),
});
type Dossier = typeof dossier extends fc.Arbitrary<infer T> ? T : never;

/** The 2024 dossier as CSV files, with the generated text in place of the fixture's (text fields quoted). */
async function writeDossier(dir: string, d: Dossier): Promise<Map<string, Dossier['persons'][number] & { inss: string; id: string }>> {
  await fs.mkdir(dir, { recursive: true });
  const affiliateId = new Map<string, string>();
  const allowanceId = new Map<string, string>();
  const byInss = new Map<string, Dossier['persons'][number] & { inss: string; id: string }>();
  for (const spec of CONTRACT) {
    const rows: string[][] = parse(readFileSync(path.join(DOSSIER_2024, spec.file)), { bom: true });
    const out = rows.slice(1).map((row, r) => {
      const values: Record<string, string> = Object.fromEntries(spec.columns.map((c, i) => [c.name, row[i]!]));
      if (spec.file === 'affiliates.csv') {
        affiliateId.set(values['affiliate_id']!, d.affiliateIds[r]!);
        Object.assign(values, d.persons[r]);
        byInss.set(values['inss']!, { ...d.persons[r]!, inss: values['inss']!, id: d.affiliateIds[r]! });
      }
      if (spec.file === 'allowances.csv') allowanceId.set(values['allowance_id']!, (values['allowance_id'] = d.allowanceIds[r]!));
      if (spec.file === 'companies.csv') values['name'] = d.companies[r]!;
      if ('affiliate_id' in values) values['affiliate_id'] = affiliateId.get(values['affiliate_id']) ?? values['affiliate_id'];
      return spec.columns.map((c) => (c.type.kind === 'text' && values[c.name] !== '' ? `"${values[c.name]!.replaceAll('"', '""')}"` : values[c.name])).join(',');
    });
    await fs.writeFile(path.join(dir, spec.file), `${[rows[0]!.join(','), ...out].join('\n')}\n`);
  }
  return byInss;
}

const parser = new XMLParser({ parseTagValue: false, trimValues: false, htmlEntities: true, ignoreAttributes: true });

/** Every record of a parsed file that names one of the persons (an INSS among its own leaves), with all its leaf texts. */
function recordsOf(node: unknown, inss: ReadonlySet<string>, out: { inss: string; texts: string[] }[] = []): { inss: string; texts: string[] }[] {
  if (Array.isArray(node)) for (const n of node) recordsOf(n, inss, out);
  else if (node && typeof node === 'object') {
    const own = Object.values(node).find((v) => typeof v === 'string' && inss.has(v)) as string | undefined;
    if (own) out.push({ inss: own, texts: leaves(node) });
    else for (const v of Object.values(node)) recordsOf(v, inss, out);
  }
  return out;
}

function leaves(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(leaves);
  return node && typeof node === 'object' ? Object.values(node).flatMap(leaves) : [];
}

const chars = (s: string): number => [...s].length;

describe('any text the contract accepts', () => {
  it(
    `makes every flow succeed with valid files that read back the same text (${RUNS} generated dossiers)`,
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(dossier, async (d) => {
          const db = await createTestDatabase();
          const tmp = await scratchDir('property');
          try {
            const persons = await writeDossier(path.join(tmp.dir, 'in'), d);
            await importFolder(db.pool, path.join(tmp.dir, 'in'));
            const outbox = path.join(tmp.dir, 'outbox');
            for (const [pipeline, period] of FLOWS) {
              const run = await runPipeline(runDeps(db.pool, outbox, NOW), { pipeline, period: parsePeriod(period), environment: 'T', sender: '012345', asOf: new Date(NOW), dryRun: false });
              const label = `${pipeline.id} ${period}`;
              expect(run.counts.extracted, label).toBe(run.counts.emitted + run.counts.quarantined);
              const lineage = await db.pool.query(`SELECT outcome, count(*)::int AS n FROM maillon.record_outcomes WHERE run_id = $1 GROUP BY 1`, [run.runId]);
              expect(Object.fromEntries(lineage.rows.map((r) => [r.outcome, r.n])), label).toEqual({
                ...(run.counts.emitted ? { emitted: run.counts.emitted } : {}),
                ...(run.counts.quarantined ? { quarantined: run.counts.quarantined } : {}),
              });
              const messages = (await db.pool.query(`SELECT message FROM maillon.record_outcomes WHERE run_id = $1 AND rule LIKE 'text-%'`, [run.runId])).rows.map((r) => r.message as string);
              for (const p of persons.values()) for (const t of [p.last_name, p.street, p.city]) if (chars(t) >= 6) expect(messages.join('\n'), label).not.toContain(t);
              if (pipeline.output.kind !== 'xml') continue;
              for (const f of run.files) {
                await xmllint(f.path, pipeline.output.schema);
                const records = recordsOf(parser.parse(await fs.readFile(f.path, 'utf8')), new Set(persons.keys()));
                if (pipeline === taxAttestations || pipeline === belcotax28118) {
                  for (const r of records) {
                    const p = persons.get(r.inss)!;
                    for (const t of [p.last_name, p.first_name, p.street, p.postal_code, p.city]) expect(r.texts, `${label}: ${JSON.stringify(t)}`).toContain(t);
                  }
                }
                if (pipeline === taxAttestations) {
                  // Sent exactly when every text fits the schema (1 to 200 characters, not whitespace only) and the document has a plain name.
                  const expected = [...persons.values()]
                    .filter((p) => ['85073003328', '78451823415', '03051212332', '62022807018', '90031518119'].includes(p.inss))
                    .filter((p) => [p.last_name, p.first_name, p.street, p.postal_code, p.city].every((t) => chars(t) <= 200 && !isBlank(t)) && documentNameProblem(`${p.id}.html`) === null);
                  expect(records.map((r) => r.inss).sort(), label).toEqual(expected.map((p) => p.inss).sort());
                }
                if (pipeline === belcotax28118) {
                  const check = belcotax28118.output.kind === 'xml' ? belcotax28118.output.check!() : null;
                  for await (const line of readline.createInterface({ input: createReadStream(f.path, 'utf8'), crlfDelay: Infinity })) check!.line(line);
                  expect(check!.end(), label).toBeNull();
                }
                if (pipeline === allowanceCertificates) {
                  const texts = leaves(parser.parse(await fs.readFile(f.path, 'utf8')));
                  const sent = await db.pool.query(`SELECT source_key FROM maillon.record_outcomes WHERE run_id = $1 AND file_key LIKE $2 || '#%'`, [run.runId, f.receiver]);
                  for (const r of sent.rows) expect(texts, label).toContain(r.source_key);
                }
              }
            }
            n++;
          } finally {
            await db.drop();
            await tmp.remove();
          }
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true },
      );
      expect(n).toBe(RUNS);
    },
    60_000 + RUNS * 30_000,
  );
});
