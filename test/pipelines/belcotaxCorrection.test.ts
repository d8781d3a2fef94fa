import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { belcotax28118 } from '../../pipelines/belcotax28118.js';
import { placeholderFund } from '../../src/config/fundConfig.js';
import { runPipeline, type RunResult } from '../../src/engine/runPipeline.js';
import { parsePeriod } from '../../src/period/period.js';
import { dossierOf, expectSection6 } from '../helpers/belcotaxSection6.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { xmllint } from '../helpers/golden.js';
import { runDeps } from '../helpers/runHarness.js';

const LATER = '2025-03-03T02:00:00+01:00';

describe('a rerun of a Belcotax year already sent is a sending of grouped corrections', () => {
  let fx: FlowFixture;
  let original: RunResult;
  let fix: RunResult;
  const request = { pipeline: belcotax28118, period: parsePeriod('2024'), environment: 'T' as const, sender: '012345' };
  beforeAll(async () => {
    fx = await createFlowFixture();
    original = await fx.run(belcotax28118, '2024', 'T');
    // After the sending: D07's allowance of December was 2,100.00, not 2,000.00; D05's allowance of June turns out paid.
    await fx.db.pool.query("UPDATE dossier.allowances SET amount_cents = 210000 WHERE allowance_id = 'L07-B'");
    await fx.db.pool.query("UPDATE dossier.allowances SET paid_on = '2024-06-20' WHERE allowance_id = 'L05-B'");
    // What `maillon rerun` does for a flow corrected whole: the whole year again, compared with what was sent.
    fix = await runPipeline(runDeps(fx.db.pool, fx.outbox, LATER), { ...request, asOf: new Date(LATER), dryRun: false, correction: { reason: 'amount corrected', full: true } });
  });
  afterAll(async () => fx.close());

  it('the original sending is v0025_typeenvoi 0 with every fiche f2028_typetraitement 0', async () => {
    const text = await fs.readFile(original.files[0]!.path, 'utf8');
    expect(text).toContain('<v0025_typeenvoi>0</v0025_typeenvoi>');
    expect([...text.matchAll(/<f2028_typetraitement>(\d)</g)].map((m) => m[1])).toEqual(['0', '0']);
  });

  it('the correction is v0025_typeenvoi 1: fiches sent before are modifications (1) under the same reference, a new one an addition (2)', async () => {
    expect(fix.plan).toMatchObject({ added: ['D05'], changed: ['D07'], vanished: [], unchanged: 1, previousRunId: original.runId });
    expect(fix.files.map((f) => f.name)).toEqual(['FI.B281.012345.20250303.00001.T.1.1']);
    await xmllint(fix.files[0]!.path, 'belcotax-281-18/v2.xsd');
    const { fiches } = await expectSection6(fix.files[0]!.path, {
      year: 2024,
      fund: placeholderFund(),
      version: 1,
      dossier: await dossierOf(fx.db.pool, fix, 2024, '2025-03-03'),
    });
    expect(fiches.map((f) => [f.f2010_referentie, f.f2009_volgnummer, f.f2028_typetraitement, f.f18_2066_anderegebeurtenissen])).toEqual([
      ['D02', '1', '1', '342000'], // unchanged, re-sent with the whole year as a modification that changes nothing
      ['D05', '2', '2', '171000'], // new to the year: an addition
      ['D07', '3', '1', '210000'], // changed: a modification of the fiche the first sending named D07
    ]);
    expect(await fs.readFile(fix.files[0]!.path, 'utf8')).toContain('<v0025_typeenvoi>1</v0025_typeenvoi>');
  });

  it('a second correction of the same year is again a sending of corrections', async () => {
    await fx.db.pool.query("UPDATE dossier.affiliates SET street = 'Dorpsstraat 46' WHERE affiliate_id = 'D07'");
    const again = await runPipeline(runDeps(fx.db.pool, fx.outbox, LATER), { ...request, asOf: new Date(LATER), dryRun: false, correction: { reason: 'address', full: true } });
    const text = await fs.readFile(again.files[0]!.path, 'utf8');
    expect(text).toContain('<v0025_typeenvoi>1</v0025_typeenvoi>');
    expect([...text.matchAll(/<f2010_referentie>(\w+)<\/f2010_referentie>.*?<f2028_typetraitement>(\d)</g)].map((m) => [m[1], m[2]])).toEqual([
      ['D02', '1'],
      ['D05', '1'],
      ['D07', '1'],
    ]);
  });
});
