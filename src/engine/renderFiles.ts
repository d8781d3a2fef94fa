import { createHash } from 'node:crypto';
import type { Environment } from '../config/config.js';
import type { Pool, PoolClient } from '../db/database.js';
import { bindSql } from '../extract/bindSql.js';
import { extractRows } from '../extract/extractRows.js';
import { createOutcomeWriter } from '../ledger/outcomeWriter.js';
import type { RunCounts } from '../ledger/runs.js';
import { brusselsTimeOfDay, type LocalDate } from '../period/localDate.js';
import { formatPeriod, lastDay, type Period, periodCode } from '../period/period.js';
import type { FileContext, FundIdentity } from '../render/envelope.js';
import { createReceiverWriter, type ReceiverWriter, type WrittenPart } from '../render/receiverWriter.js';
import { validateRow } from '../validate/validateRow.js';
import { createDocumentWriter, type DocumentWriter } from './documents.js';
import type { AnyPipeline, RecordContext } from './pipeline.js';

/** The closed temporary parts of one receiver's submission. */
export interface RenderedSubmission {
  receiver: string;
  parts: WrittenPart[];
}

/** Everything the render step needs to know. */
export interface RenderInput {
  pipeline: AnyPipeline;
  period: Period;
  environment: Environment;
  sender: string;
  asOf: Date;
  asOfDay: LocalDate;
  creation: Date;
  creationDate: LocalDate;
  runId: number;
  tmpDir: string;
  /** Temporary folder for printable documents, when the pipeline has some. */
  documentsTmpDir?: string;
  fund: FundIdentity;
  onProgress?: (extracted: number) => void;
}

/** What the render step produced. */
export interface RenderOutput {
  counts: RunCounts;
  quarantineByRule: Record<string, number>;
  submissions: RenderedSubmission[];
  documents: number;
}

/** The values every extraction query may use. */
export function extractionParams(period: Period, asOfDay: LocalDate): Record<string, string | number> {
  return {
    periodKey: formatPeriod(period),
    periodStart: period.start,
    periodEnd: period.end,
    periodLastDay: lastDay(period),
    year: period.year,
    asOfDay,
  };
}

/**
 * Extracts, validates, renders: every extracted row becomes exactly one outcome row in the
 * ledger (emitted at a file position, or quarantined under a rule) and each emitted record
 * goes to its receiver's writer. Runs inside the caller's ledger transaction.
 */
export async function renderFiles(dossier: Pool, tx: PoolClient, input: RenderInput): Promise<RenderOutput> {
  const { pipeline: p, period } = input;
  const ctx: RecordContext = { period, asOfDay: input.asOfDay };
  const outcomes = createOutcomeWriter(tx, input.runId);
  const writers = new Map<string, ReceiverWriter>();
  const docs: DocumentWriter | null = p.documents && input.documentsTmpDir ? createDocumentWriter(p.documents, input.documentsTmpDir, ctx) : null;
  const counts: RunCounts = { extracted: 0, emitted: 0, quarantined: 0 };
  const quarantineByRule: Record<string, number> = {};
  const code = periodCode(period);
  try {
    for await (const raw of extractRows(dossier, bindSql(p.extract.sql, extractionParams(period, input.asOfDay)))) {
      const ordinal = ++counts.extracted;
      const sourceKey = p.extract.sourceKey(raw);
      if (input.onProgress && ordinal % 10_000 === 0) input.onProgress(ordinal);
      const verdict = validateRow(raw, p.row, p.rules);
      const recordKey = verdict.ok ? p.recordKey(verdict.row) : null;
      const rec = verdict.ok ? p.toRecord(verdict.row, ctx) : null;
      const route = verdict.ok ? p.route(rec, verdict.row, ctx) : { quarantine: verdict.violation };
      if ('quarantine' in route) {
        counts.quarantined++;
        quarantineByRule[route.quarantine.rule] = (quarantineByRule[route.quarantine.rule] ?? 0) + 1;
        const q = outcomes.quarantined({ ordinal, sourceKey, recordKey, ...route.quarantine });
        if (q) await q;
        continue;
      }
      let writer = writers.get(route.receiver);
      if (!writer) {
        writer = await createReceiverWriter(p.output, fileContext(input, route.receiver, code), input.tmpDir, `run${input.runId}-${writers.size + 1}`);
        writers.set(route.receiver, writer);
      }
      const attestationId = `${code}${String(ordinal).padStart(9, '0')}`;
      // Awaited only when a buffer is flushed: most records cost no promise at all.
      const placed = writer.add(rec, { attestationId, status: 0, creationDate: input.creationDate });
      if (placed.flush) await placed.flush;
      if (docs) await docs.write(rec);
      counts.emitted++;
      const recordHash = createHash('sha256').update(JSON.stringify(rec)).digest('hex').slice(0, 32);
      const e = outcomes.emitted({ ordinal, sourceKey, recordKey, fileKey: placed.fileKey, position: placed.position, attestationId, recordHash });
      if (e) await e;
    }
    await outcomes.end();
    const submissions: RenderedSubmission[] = [];
    for (const [receiver, w] of [...writers.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      submissions.push({ receiver, parts: await w.finish(counts.quarantined) });
    }
    return { counts, quarantineByRule, submissions, documents: docs?.count() ?? 0 };
  } catch (err) {
    for (const w of writers.values()) await w.discard();
    throw err;
  }
}

function fileContext(input: RenderInput, receiver: string, code: string): FileContext {
  return {
    fund: input.fund,
    sender: input.sender,
    receiver,
    environment: input.environment,
    period: input.period,
    periodCode: code,
    asOf: input.asOf,
    creationDate: input.creationDate,
    creationHour: brusselsTimeOfDay(input.creation),
  };
}
