import path from 'node:path';
import { type CareerRecord, career } from '../pipelines/career.js';
import { SCHEMAS_DIR } from '../src/cli/context.js';
import { loadPipeline } from '../src/engine/pipelineContracts.js';
import type { LocalDate } from '../src/period/localDate.js';
import { createFileSink } from '../src/render/fileSink.js';
import type { FileContext } from '../src/render/envelope.js';
import { placeholderFund } from '../src/config/fundConfig.js';
import { parsePeriod } from '../src/period/period.js';
import { parseCents } from '../src/domain/cents.js';
import { parseInss } from '../src/domain/inss.js';

const FILE: FileContext = {
  fund: placeholderFund(),
  sender: '012345',
  receiver: 'INASTI',
  environment: 'S',
  period: parsePeriod('2026-Q3'),
  periodCode: '20263',
  asOf: new Date(0),
  creationDate: '2026-10-10' as LocalDate,
  creationHour: '02:00:00',
  version: 0,
};

/**
 * Times the streaming XML writer alone: n career records rendered by the engine (the flow's
 * content, its values checked against the schema, the engine's identification) and written to a file.
 */
export async function benchRenderer(n: number, dir: string): Promise<{ records: number; seconds: number }> {
  const sink = await createFileSink(path.join(dir, 'render-bench.xml'));
  const rec: CareerRecord = {
    inss: parseInss('85073003328'),
    quarter: '20263',
    periods: [{ kind: 'activity', category: 'main', start: '2026-07-01' as LocalDate, end: '2026-09-30' as LocalDate }],
    due: parseCents(87171),
    paid: parseCents(87171),
    paidInFull: true,
    paidInFullDate: '2026-08-14' as LocalDate,
  };
  const renderer = loadPipeline(career, SCHEMAS_DIR).renderer!;
  const started = process.hrtime.bigint();
  for (let i = 1; i <= n; i++) {
    const w = sink.write(`${renderer.render(rec, { attestationId: `20263${String(i).padStart(9, '0')}`, status: 0, creationDate: '2026-10-10' as LocalDate, position: i }, FILE).line}\n`);
    if (w) await w;
  }
  await sink.close();
  return { records: n, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
