import { hash } from 'node:crypto';
import type { Environment } from '../config/config.js';
import type { Pool, PoolClient } from '../db/database.js';
import { bindSql } from '../extract/bindSql.js';
import { extractBatches } from '../extract/extractRows.js';
import { createOutcomeWriter } from '../ledger/outcomeWriter.js';
import type { RunCounts } from '../ledger/runs.js';
import { brusselsTimeOfDay, type LocalDate } from '../period/localDate.js';
import { formatPeriod, lastDay, type Period, periodCode } from '../period/period.js';
import type { FileContext, FundIdentity } from '../render/envelope.js';
import { createReceiverWriter, type ReceiverWriter, type WrittenPart } from '../render/receiverWriter.js';
import type { StreamValidation } from '../render/xsdValidator.js';
import { validateRow } from '../validate/validateRow.js';
import { createDocumentWriter, type DocumentWriter } from './documents.js';
import { type Correction, classify, readRecordLines, toCancellation, vanished } from './correction.js';
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
  /** Set for a rerun: the previous version and how to compare with it. */
  correction?: Correction;
  /** Temporary folder for printable documents, when the pipeline has some. */
  documentsTmpDir?: string;
  fund: FundIdentity;
  onProgress?: (extracted: number) => void;
  /** Starts the XSD validation of an XML file that reads along as it is written (xmllint). */
  streamValidation?: () => StreamValidation | null;
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
  const docs: DocumentWriter | null = p.documents && input.documentsTmpDir ? await createDocumentWriter(p.documents, input.documentsTmpDir, ctx, input.creation) : null;
  const counts: RunCounts = { extracted: 0, emitted: 0, quarantined: 0 };
  const quarantineByRule: Record<string, number> = {};
  const code = periodCode(period);
  const writerFor = async (receiver: string): Promise<ReceiverWriter> => {
    let writer = writers.get(receiver);
    if (!writer) {
      writer = await createReceiverWriter(p.output, fileContext(input, receiver, code), input.tmpDir, `run${input.runId}-${writers.size + 1}`, input.streamValidation);
      writers.set(receiver, writer);
    }
    return writer;
  };
  try {
    for await (const batch of extractBatches(dossier, bindSql(p.extract.sql, extractionParams(period, input.asOfDay)))) for (const raw of batch) {
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
      const json = JSON.stringify(rec);
      const recordHash = hash('sha256', json, 'hex').slice(0, 32);
      // A new version carries originals (new records), replacements (changed ones, under their
      // earlier id) and, unless everything is resent, leaves unchanged records out.
      const how = input.correction ? classify(input.correction, sourceKey, recordHash) : { send: true as const, status: 0 as const, attestationId: null };
      const attestationId = (how.send && how.attestationId) || newAttestationId(code, input.correction?.version ?? 0, ordinal);
      if (!how.send) {
        counts.unchanged = (counts.unchanged ?? 0) + 1;
        const u = outcomes.unchanged({ ordinal, sourceKey, recordKey, attestationId, recordHash });
        if (u) await u;
        continue;
      }
      // Awaited only when a buffer is flushed: most records cost no promise at all.
      const placed = (writers.get(route.receiver) ?? (await writerFor(route.receiver))).add(rec, { attestationId, status: how.status, creationDate: input.creationDate });
      if (placed.flush) await placed.flush;
      const d = docs?.write(rec, json);
      if (d) await d;
      counts.emitted++;
      const e = outcomes.emitted({ ordinal, sourceKey, recordKey, fileKey: placed.fileKey, position: placed.position, attestationId, recordHash, status: how.status });
      if (e) await e;
    }
    if (input.correction?.cancelVanished) {
      const gone = vanished(input.correction);
      const lines = await readRecordLines(gone.map(([, r]) => r));
      let ordinal = counts.extracted;
      for (const [sourceKey, before] of gone) {
        const line = lines.get(`${before.filePath}#${before.position}`);
        if (!line) throw new Error(`the record of ${sourceKey} is not at position ${before.position} of ${before.filePath}`);
        const placed = (await writerFor(before.receiver)).addLine(toCancellation(line, input.creationDate));
        if (placed.flush) await placed.flush;
        counts.emitted++;
        counts.cancelled = (counts.cancelled ?? 0) + 1;
        const e = outcomes.emitted({ ordinal: ++ordinal, sourceKey, recordKey: null, fileKey: placed.fileKey, position: placed.position, attestationId: before.attestationId, recordHash: before.hash, status: 1 });
        if (e) await e;
      }
    } else if (input.correction) vanished(input.correction);
    await outcomes.end();
    await docs?.flush();
    // The receivers' files are closed (and fsynced) side by side: a run with eight receivers
    // waits for the slowest disk flush, not for the sum of eight.
    // By code point: the order (and so the sequence numbers) does not depend on the process's
    // locale, as localeCompare's does; receiver ids are capitals and digits, where both agree.
    const receivers = [...writers.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const finished = await Promise.allSettled(receivers.map(([, w]) => w.finish(counts.quarantined)));
    const failed = finished.find((f) => f.status === 'rejected');
    if (failed) throw failed.reason;
    const submissions: RenderedSubmission[] = receivers.map(([receiver], i) => ({ receiver, parts: (finished[i] as PromiseFulfilledResult<WrittenPart[]>).value }));
    return { counts, quarantineByRule, submissions, documents: docs?.count() ?? 0 };
  } catch (err) {
    for (const w of writers.values()) await w.discard();
    docs?.discard();
    throw err;
  }
}

/** Up to 15 digits: the period code, then the version (0 for the original) and the extraction ordinal on 9 digits. */
function newAttestationId(code: string, version: number, ordinal: number): string {
  return `${code}${String(version * 100_000_000 + ordinal).padStart(9, '0')}`;
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
    version: input.correction?.version ?? 0,
  };
}
