import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career, careerXml } from '../../pipelines/career.js';
import { PIPELINES } from '../../pipelines/index.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import type { AnyPipeline } from '../../src/engine/pipeline.js';
import { byteOrderLess, loadPipeline, sourceKeyOrder } from '../../src/engine/pipelineContracts.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { PipelineContractError } from '../../src/errors/errors.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { el } from '../../src/render/xml.js';
import { ROOT, runDeps, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** The contract a failure names, or the failure itself when it is not a PipelineContractError. */
function contractOf(fn: () => unknown): unknown {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof PipelineContractError ? err.contract : err;
  }
}

const withOutput = (output: unknown, extra: Partial<AnyPipeline> = {}): AnyPipeline => ({ ...career, ...extra, output }) as AnyPipeline;
const { envelope } = careerXml;

describe('the engine contracts a flow is held to at load', () => {
  it('holds for every flow maillon runs', () => {
    for (const p of PIPELINES)
      expect(
        contractOf(() => loadPipeline(p, SCHEMAS_DIR)),
        p.id,
      ).toBeNull();
  });

  it('names the contract a broken flow breaks, before it runs', () => {
    const render = careerXml.attestation!;
    expect(contractOf(() => loadPipeline(withOutput({ kind: 'xml', schema: 'career/v1.xsd', envelope, record: () => '<Attestation/>' }), SCHEMAS_DIR))).toBe(
      'records corrected one by one are attestations',
    );
    expect(contractOf(() => loadPipeline(withOutput({ kind: 'xml', schema: 'career/v1.xsd', envelope, record: () => '', attestation: render }), SCHEMAS_DIR))).toBe(
      'an XML record is an attestation or a whole element',
    );
    expect(contractOf(() => loadPipeline(withOutput({ kind: 'xml', schema: 'belcotax-281-18/v2.xsd', envelope, attestation: render }), SCHEMAS_DIR))).toBe('attestations are identified by the engine');
    expect(contractOf(() => loadPipeline(withOutput({ kind: 'xml', schema: 'nothing/v1.xsd', envelope, attestation: render }), SCHEMAS_DIR))).toBe('the schema states every limit');
    // A flow corrected by whole files may write its record element itself.
    expect(contractOf(() => loadPipeline(withOutput({ kind: 'xml', schema: 'career/v1.xsd', envelope, record: () => '' }, { corrections: 'whole-file' }), SCHEMAS_DIR))).toBeNull();
  });

  it('orders source keys by code point, as PostgreSQL\'s COLLATE "C" orders their bytes', () => {
    const keys = ['A', 'A0', 'B', 'a', 'é', '\uE000', '\uFFFD', '😀', '😀x'];
    for (let i = 0; i + 1 < keys.length; i++) {
      expect(byteOrderLess(keys[i]!, keys[i + 1]!), `${keys[i]} < ${keys[i + 1]}`).toBe(true);
      expect(byteOrderLess(keys[i + 1]!, keys[i]!)).toBe(false);
      expect(Buffer.compare(Buffer.from(keys[i]!), Buffer.from(keys[i + 1]!))).toBe(-1);
    }
    const check = sourceKeyOrder('career');
    check('A1', 1);
    expect(() => check('A1', 2)).toThrow('row 2 has the source key "A1" after "A1"');
  });
});

describe('the engine contracts a flow is held to in its first run', () => {
  let db: TestDatabase;
  let out: { dir: string; remove: () => Promise<void> };
  const run = (pipeline: AnyPipeline): Promise<unknown> =>
    runPipeline(runDeps(db.pool, out.dir), { pipeline, period: parsePeriod('2026-Q3'), environment: 'T', sender: '012345', asOf: new Date('2026-10-10T02:00:00+02:00'), dryRun: true }).then(
      () => null,
      (err: unknown) => err,
    );
  beforeAll(async () => {
    db = await createTestDatabase();
    out = await scratchDir('contracts');
    await importFolder(db.pool, path.join(ROOT, 'fixtures/career/input'));
  });
  afterAll(async () => {
    await db.drop();
    await out.remove();
  });

  it('fails the run with a sentence naming the contract: a record over two lines, an element the schema does not declare, rows out of order', async () => {
    const render = careerXml.attestation!;
    const cases: [AnyPipeline, string][] = [
      [withOutput({ ...careerXml, attestation: (rec: never, file: never) => render(rec, file).replace('<Contribution>', '\n<Contribution>') }), 'one record per line'],
      [withOutput({ ...careerXml, attestation: (rec: never, file: never) => render(rec, file) + el('Remark', 'none') }), 'every element is declared by the schema'],
      [{ ...career, extract: { ...career.extract, sql: career.extract.sql.replace('ORDER BY a.affiliate_id COLLATE "C"', 'ORDER BY a.inss') } }, 'rows come in strictly increasing source-key order'],
    ];
    for (const [pipeline, contract] of cases) {
      const err = await run(pipeline);
      expect(err, contract).toBeInstanceOf(PipelineContractError);
      expect((err as PipelineContractError).contract).toBe(contract);
      expect((err as Error).message).toMatch(new RegExp(`^The flow career breaks the engine contract "${contract}": .*\\(docs/engine-contracts\\.md\\)`));
      expect((err as PipelineContractError).exitCode).toBe(5);
    }
    expect(await run(career)).toBeNull();
  });
});
