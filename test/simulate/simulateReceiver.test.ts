import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import type { PublishedFile } from '../../src/engine/runPipeline.js';
import { parseReply, type Noti } from '../../src/ack/replyXml.js';
import { fixedClock } from '../../src/clock/clock.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import { formatBatchFileName, parseBatchFileName } from '../../src/package/batchFileName.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { drawOf, simulateReceiver } from '../../src/simulate/simulateReceiver.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';

const clock = fixedClock('2026-10-10T04:00:00+02:00');

describe('the simulated receiver, answering a share of the records with anomalies', () => {
  let fx: FlowFixture;
  let root: string;
  let inss: string[];

  /** Puts a fresh career file, complete with its GO, in IN; returns the NOTI the simulator answers it with. */
  // Each answer is about a period of its own (a period its receiver holds is never run twice).
  // `same` answers the file of the previous call again.
  let back = 0;
  let last: PublishedFile | null = null;
  async function answer(rates: { rejectRate?: number; warnRate?: number }, same = false): Promise<Noti> {
    const index = 2026 * 4 + 2 - back++;
    const file = same && last ? last : (await fx.run(career, `${Math.floor(index / 4)}-Q${(index % 4) + 1}`)).files[0]!;
    last = file;
    await fs.rm(root, { recursive: true, force: true });
    await fs.mkdir(path.join(root, 'IN'), { recursive: true });
    await fs.copyFile(file.path, path.join(root, 'IN', file.name));
    await fs.writeFile(path.join(root, 'IN', formatBatchFileName({ ...parseBatchFileName(file.name), kind: 'GO' })), '');
    inss = [...(await fs.readFile(file.path, 'utf8')).matchAll(/<INSS>(\d{11})</g)].map((m) => m[1]!);
    const pass = await simulateReceiver({ root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock, ...rates });
    const noti = pass.replies.find((r) => r.includes('.NOTI.'))!;
    return (await parseReply(await fs.readFile(path.join(root, 'OUTTEST', noti), 'utf8'), noti)) as Noti;
  }

  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    root = path.join(path.dirname(fx.outbox), 'partner');
  });
  afterAll(async () => fx?.close());

  it('draws each INSS to the same number in [0, 1), spread evenly', () => {
    const draws = Array.from({ length: 20_000 }, (_, i) => drawOf(String(85_000_000_000 + i * 97)));
    expect(draws.every((d) => d >= 0 && d < 1)).toBe(true);
    expect(drawOf('85073003328')).toBe(drawOf('85073003328'));
    const share = draws.filter((d) => d < 0.01).length / draws.length;
    expect(share).toBeGreaterThan(0.008);
    expect(share).toBeLessThan(0.012);
  });

  it('refuses the records drawn under the reject rate, remarks on those drawn in the next band, accepts the rest', async () => {
    const noti = await answer({ rejectRate: 0.3, warnRate: 0.4 });
    const refused = inss.filter((i) => drawOf(i) < 0.3);
    const remarked = inss.filter((i) => drawOf(i) >= 0.3 && drawOf(i) < 0.7);
    expect(refused.length + remarked.length).toBeGreaterThan(0);
    expect(noti.anomalies.filter((a) => a.blocking).map((a) => a.inss)).toEqual(refused);
    expect(noti.anomalies.filter((a) => !a.blocking).map((a) => a.inss)).toEqual(remarked);
    expect(noti.result).toBe('accepted_with_anomalies');
  });

  it('answers the same records on every pass, and none at a rate of 0', async () => {
    const first = await answer({ rejectRate: 0.5 });
    const again = await answer({ rejectRate: 0.5 }, true);
    expect(again.anomalies.map((a) => a.inss)).toEqual(first.anomalies.map((a) => a.inss));
    expect((await answer({ rejectRate: 0, warnRate: 0 })).anomalies).toEqual([]);
  });

  it('refuses a rate that is not a share between 0 and 1, saying so (exit 2)', async () => {
    for (const bad of ['1.5', 'abc', '-0.1']) {
      const out = await maillon(['simulate-receiver', '--root', root, '--warn-rate', bad], {});
      expect(out.code, bad).toBe(2);
      expect(out.stderr).toContain(`A rate is a share between 0 and 1, such as 0.01 for 1 %, not "${bad}".`);
    }
  });
});
