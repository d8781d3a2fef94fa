import fs from 'node:fs/promises';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incapacityAttestations } from '../../pipelines/incapacityAttestations.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { createFlowFixture, fixtureWithRows, type FlowFixture } from '../helpers/flowFixture.js';
import { runDeps } from '../helpers/runHarness.js';

const NOW = '2025-01-10T02:00:00+01:00';
const parser = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'Attestation' });
const request = (n: number): string => `V-${String(n).padStart(2, '0')},D06,200,2024-05-02,2024-05-01`;

describe('incapacity-attestations: a day corrected more than 9 times (a late request each time)', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    const first = await fixtureWithRows({ 'incapacity_requests.csv': [request(0)] });
    fx = await createFlowFixture(first.dir);
    await first.remove();
    await fx.run(incapacityAttestations, '2024-05-02');
  });
  afterAll(async () => fx.close());

  it('sends every new request under an id no earlier version used, the 10th correction and later included', async () => {
    const ids = new Map<string, string>();
    for (let n = 1; n <= 11; n++) {
      const folder = await fixtureWithRows({ 'incapacity_requests.csv': Array.from({ length: n + 1 }, (_, i) => request(i)) });
      await importFolder(fx.db.pool, folder.dir);
      await folder.remove();
      const fix = await runPipeline(runDeps(fx.db.pool, fx.outbox, NOW), {
        pipeline: incapacityAttestations,
        period: parsePeriod('2024-05-02'),
        environment: 'T',
        sender: '012345',
        asOf: new Date(NOW),
        dryRun: false,
        correction: { reason: 'a request that arrived after the day was run', full: false },
      });
      expect(fix.plan).toMatchObject({ added: [`V-${String(n).padStart(2, '0')}`], changed: [], vanished: [] });
      const [a] = parser.parse(await fs.readFile(fix.files[0]!.path, 'utf8')).INCA.Attestation;
      ids.set(a.RequestID, a.AttestationIdentification.AttestationID);
    }
    // Versions 1 to 9 keep version × 10^6 + ordinal; from the 10th on, the ids after the highest used.
    expect(ids.get('V-01')).toBe('202405021000002');
    expect(ids.get('V-09')).toBe('202405029000010');
    expect(ids.get('V-10')).toBe('202405029000011');
    expect(ids.get('V-11')).toBe('202405029000012');
    expect(new Set(ids.values()).size).toBe(11);
  });
});
