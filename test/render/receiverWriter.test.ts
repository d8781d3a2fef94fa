import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeholderFund } from '../../src/config/fundConfig.js';
import type { XmlOutput } from '../../src/engine/pipeline.js';
import type { RenderedRecord } from '../../src/engine/recordRenderer.js';
import { SchemaConformanceError } from '../../src/errors/errors.js';
import { parseLocalDate } from '../../src/period/localDate.js';
import { makePeriod } from '../../src/period/period.js';
import type { FileContext } from '../../src/render/envelope.js';
import { createReceiverWriter } from '../../src/render/receiverWriter.js';
import { createXsdValidator, type StreamValidation } from '../../src/render/xsdValidator.js';
import { scratchDir } from '../helpers/runHarness.js';
import { tools } from '../helpers/systemTools.js';

const XSD = `<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="Recs"><xs:complexType><xs:sequence>
    <xs:element name="R" minOccurs="0" maxOccurs="unbounded"><xs:simpleType><xs:restriction base="xs:string"><xs:pattern value="[0-9]{11}"/></xs:restriction></xs:simpleType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>
`;

/** Records are 11-digit strings; a record of another shape breaks the schema. */
const output: XmlOutput<string> = {
  kind: 'xml',
  schema: 'recs.xsd',
  envelope: { start: () => '<?xml version="1.0" encoding="UTF-8"?>\n<Recs>\n', totals: () => null, add: () => undefined, end: () => '</Recs>\n' },
  record: (rec) => `<R>${rec}</R>`,
};

/** A record as the engine hands it to the writer: a whole element, its content not kept. */
const line = (rec: string): RenderedRecord => ({ line: `<R>${rec}</R>`, prefix: 0, suffix: 0, keepContent: false });

const file: FileContext = {
  fund: placeholderFund(),
  sender: '012345',
  receiver: 'OA100',
  environment: 'T',
  period: makePeriod('month', 2026, 9),
  periodCode: '202609',
  asOf: new Date('2026-09-30T23:59:59Z'),
  creationDate: parseLocalDate('2026-10-01'),
  creationHour: '03:00:00',
  version: 0,
};

// Validation reading along is native xmllint's (the npm fallback validates closed files only):
// without xmllint these tests are shown skipped, and the run's closing line says so.
const itNative = tools().xmllint !== null ? it : it.skip;

describe('XML receiver writer and the validation reading along', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let xsd: string;
  beforeAll(async () => {
    tmp = await scratchDir('writer');
    xsd = path.join(tmp.dir, 'recs.xsd');
    await fs.writeFile(xsd, XSD);
  });
  afterAll(async () => tmp.remove());

  /** Writes `n` records (record `bad` replaced by a non-conforming one); counts the validators started. */
  async function write(stem: string, n: number, bad = -1): Promise<{ started: number; part: Awaited<ReturnType<Awaited<ReturnType<typeof createReceiverWriter>>['finish']>>[number] }> {
    let started = 0;
    const start = (): StreamValidation => {
      started++;
      return createXsdValidator(undefined).stream!(xsd, `${stem} file`);
    };
    const w = await createReceiverWriter(output, file, tmp.dir, stem, start);
    for (let i = 0; i < n; i++) {
      const rec = i === bad ? 'not-digits' : String(10_000_000_000 + i);
      const placed = w.add(rec, line(rec));
      if (placed.flush) await placed.flush;
    }
    const [part] = await w.finish(0);
    return { started, part: part! };
  }

  it('a file that ends within the first buffer starts no validator: it is left to be validated once closed', async () => {
    const { started, part } = await write('small', 1000);
    expect(started).toBe(0);
    expect(part.validated).toBeUndefined();
    expect(part.records).toBe(1000);
    await expect(createXsdValidator(undefined).validate([part.tmpPath], xsd)).resolves.toBeUndefined();
  });

  itNative('a file larger than a buffer is validated while written, every byte of it', async () => {
    // 150,000 records of 19 bytes: about 2.7 MiB, three buffers.
    const { started, part } = await write('large', 150_000);
    expect(part.bytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(started).toBe(1);
    await expect(part.validated).resolves.toBeUndefined();
  });

  it("feeds the flow's line check every line of the file as a reader of it would see them", async () => {
    const seen: string[] = [];
    const checked: XmlOutput<string> = { ...output, check: () => ({ line: (l) => void seen.push(l), end: () => (seen.length === 5 ? null : `${seen.length} lines`) }) };
    const w = await createReceiverWriter(checked, file, tmp.dir, 'checked');
    for (const rec of ['10000000001', '10000000002']) w.add(rec, line(rec));
    const [part] = await w.finish(0);
    expect(part!.lineProblem).toBeNull();
    expect(seen).toEqual((await fs.readFile(part!.tmpPath, 'utf8')).split('\n').slice(0, -1));
    const failing: XmlOutput<string> = { ...output, check: () => ({ line: () => undefined, end: () => 'control total 3 ≠ 4' }) };
    const [bad] = await (await createReceiverWriter(failing, file, tmp.dir, 'failing')).finish(0);
    expect(bad!.lineProblem).toBe('control total 3 ≠ 4');
    const [none] = await (await createReceiverWriter(output, file, tmp.dir, 'unchecked')).finish(0);
    expect(none!.lineProblem).toBeUndefined();
  });

  itNative('a bad record of a large file is refused by the validator reading along, wherever it is', async () => {
    for (const [stem, bad] of [
      ['bad-first', 0],
      ['bad-last', 149_999],
    ] as const) {
      const { part } = await write(stem, 150_000, bad);
      const err = await part.validated!.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SchemaConformanceError);
      expect((err as Error).message).toContain(`${stem} file`);
    }
  });
});
