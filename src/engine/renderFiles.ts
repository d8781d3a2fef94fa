import { hash } from 'node:crypto';
import type { Environment } from '../domain/environment.js';
import type { Pool, PoolClient } from '../db/database.js';
import { bindSql } from '../extract/bindSql.js';
import { OutboxError, RecordContentError } from '../errors/errors.js';
import { extractBatches } from '../extract/extractRows.js';
import { createOutcomeWriter, type OutcomeWriter } from '../ledger/outcomeWriter.js';
import type { RunCounts } from '../ledger/runs.js';
import { brusselsTimeOfDay, type LocalDate } from '../period/localDate.js';
import { formatPeriod, lastDay, type Period, periodCode } from '../period/period.js';
import type { FileContext, FundIdentity } from '../render/envelope.js';
import type { StreamValidation } from '../render/xsdValidator.js';
import type { Violation } from '../validate/rule.js';
import { validateRow } from '../validate/validateRow.js';
import { attestationIds, versionFits } from './attestationId.js';
import { createDocumentWriter, documentNameProblem, type DocumentWriter } from './documents.js';
import { closeCorrection, type Correction, type Decision, decide, fingerprint, heldFor, moveAway, note, readSentContents, setAside, vanished } from './correction.js';
import type { HeldRecord } from './previousVersion.js';
import type { AnyPipeline, RecordContext } from './pipeline.js';
import { loadPipeline, sourceKeyOrder } from './pipelineContracts.js';
import { createReceiverFiles, type ReceiverFiles, type RenderedSubmission } from './receiverFiles.js';
import type { RenderedRecord } from './recordRenderer.js';

export type { RenderedSubmission } from './receiverFiles.js';

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
  /** The folder of the flows' XSDs: their facets are checked on every record. */
  schemasDir: string;
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
 * ledger (emitted at a file position, quarantined under a rule, or unchanged in a rerun) and each
 * emitted record goes to its receiver's file. A record whose values its schema would refuse is
 * quarantined under the rule its check names, before anything of it is written. Runs inside the
 * caller's ledger transaction.
 */
export async function renderFiles(dossier: Pool, tx: PoolClient, input: RenderInput): Promise<RenderOutput> {
  const { pipeline: p, period, correction } = input;
  const { renderer } = loadPipeline(p, input.schemasDir);
  const inOrder = sourceKeyOrder(p.id);
  const ctx: RecordContext = { period, asOfDay: input.asOfDay };
  const outcomes = createOutcomeWriter(tx, input.runId);
  const code = periodCode(period);
  const version = correction?.version ?? 0;
  const highestUsed = correction && !versionFits(code, version) ? await correction.previous.highestAttestationId() : null;
  const newId = attestationIds(period, code, version, highestUsed);
  const files = createReceiverFiles({
    pipeline: p,
    renderer,
    context: (receiver) => fileContext(input, receiver, code),
    creationDate: input.creationDate,
    tmpDir: input.tmpDir,
    runId: input.runId,
    ...(input.streamValidation ? { streamValidation: input.streamValidation } : {}),
  });
  const docs: DocumentWriter | null = p.documents && input.documentsTmpDir ? await createDocumentWriter(p.documents, input.documentsTmpDir, ctx, input.creation) : null;
  const counts: RunCounts = { extracted: 0, emitted: 0, quarantined: 0 };
  const quarantineByRule: Record<string, number> = {};
  const quarantine = (o: { ordinal: number; sourceKey: string; recordKey: string | null }, v: Violation): Promise<void> | undefined => {
    counts.quarantined++;
    quarantineByRule[v.rule] = (quarantineByRule[v.rule] ?? 0) + 1;
    if (correction) fingerprint(correction, o.sourceKey, 'quarantined', v.rule);
    return outcomes.quarantined({ ordinal: o.ordinal, sourceKey: o.sourceKey, recordKey: o.recordKey, rule: v.rule, message: v.message });
  };
  try {
    for await (const batch of extractBatches(dossier, bindSql(p.extract.sql, extractionParams(period, input.asOfDay))))
      for (const raw of batch) {
        const ordinal = ++counts.extracted;
        const sourceKey = p.extract.sourceKey(raw);
        inOrder(sourceKey, ordinal);
        if (input.onProgress && ordinal % 10_000 === 0) input.onProgress(ordinal);
        // A rerun merges the extraction with what the receivers hold, both in source-key order.
        let before: HeldRecord | null = null;
        if (correction) {
          const held = heldFor(correction, sourceKey);
          before = held instanceof Promise ? await held : held;
        }
        const verdict = validateRow(raw, p.row, p.rules);
        const recordKey = verdict.ok ? p.recordKey(verdict.row) : null;
        const rec: unknown = verdict.ok ? p.toRecord(verdict.row, ctx) : null;
        const route = verdict.ok ? p.route(rec, verdict.row, ctx) : { quarantine: verdict.violation };
        if ('quarantine' in route) {
          if (correction) setAside(correction, sourceKey, before);
          const q = quarantine({ ordinal, sourceKey, recordKey }, route.quarantine);
          if (q) await q;
          continue;
        }
        const json = JSON.stringify(rec);
        const recordHash = hash('sha256', json, 'hex').slice(0, 32);
        // A new version carries originals (new records, and those gone to another receiver),
        // replacements (changed ones, under their earlier id) and, unless everything is resent,
        // leaves unchanged records out.
        const how = correction ? decide(correction, before, recordHash, route.receiver) : ORIGINAL;
        const attestationId = how.attestationId ?? newId(ordinal);
        if (!how.send) {
          // Unchanged where it goes: the copies held elsewhere are still cancelled there.
          moveAway(correction!, sourceKey, how.elsewhere, route.receiver);
          note(correction!, sourceKey, how.held, recordHash);
          counts.unchanged = (counts.unchanged ?? 0) + 1;
          fingerprint(correction!, sourceKey, 'unchanged', `${attestationId} ${recordHash}`);
          const u = outcomes.unchanged({ ordinal, sourceKey, recordKey, attestationId, recordHash });
          if (u) await u;
          continue;
        }
        const rendered = renderChecked(p, files, route.receiver, rec, attestationId, how.status);
        if (rendered !== null && 'rule' in rendered) {
          if (correction) setAside(correction, sourceKey, before);
          const q = quarantine({ ordinal, sourceKey, recordKey }, rendered);
          if (q) await q;
          continue;
        }
        if (correction) {
          moveAway(correction, sourceKey, how.elsewhere, route.receiver);
          note(correction, sourceKey, how.held, recordHash);
          fingerprint(correction, sourceKey, `status ${how.status} to ${route.receiver}`, `${attestationId} ${recordHash}`);
        }
        // Awaited only when a buffer is flushed (or the receiver's file opened): most records cost no promise at all.
        const writer = files.writer(route.receiver);
        const placed = (writer instanceof Promise ? await writer : writer).add(rec, rendered);
        if (placed.flush) await placed.flush;
        const d = docs?.write(rec, json);
        if (d) await d;
        counts.emitted++;
        const e = outcomes.emitted({
          ordinal,
          sourceKey,
          recordKey,
          fileKey: placed.fileKey,
          position: placed.position,
          attestationId,
          recordHash,
          status: how.status,
          contentOffset: placed.contentOffset,
          contentBytes: placed.contentBytes,
        });
        if (e) await e;
      }
    if (correction?.cancelVanished) await cancelVanished(correction, files, outcomes, counts, p.output.kind === 'xml' && p.output.record !== undefined);
    else if (correction) await vanished(correction);
    await outcomes.end();
    await docs?.flush();
    const submissions = await files.finish(counts.quarantined);
    return { counts, quarantineByRule, submissions, documents: docs?.count() ?? 0 };
  } catch (err) {
    if (correction) await closeCorrection(correction);
    await files.discard();
    docs?.discard();
    throw err;
  }
}

/** How a record of a first run is sent: an original with a new AttestationID. */
const ORIGINAL: Decision = Object.freeze({ send: true, status: 0, attestationId: null, held: null, elsewhere: Object.freeze([]) });

/**
 * The record rendered for its receiver (null for CSV tables), or the violation that quarantines
 * it: a value its schema refuses, or a printable document's name that is not a plain file name.
 */
function renderChecked(p: AnyPipeline, files: ReceiverFiles, receiver: string, rec: unknown, attestationId: string, status: number): RenderedRecord | Violation | null {
  const refused = p.documents ? documentNameProblem(p.documents.name(rec)) : null;
  if (refused) return { rule: 'document-name', message: refused };
  try {
    return files.render(receiver, rec, attestationId, status);
  } catch (err) {
    if (err instanceof RecordContentError) return { rule: err.rule, message: err.message };
    throw err;
  }
}

/**
 * Sends the cancellation of every record the receivers hold and this version no longer has: the
 * content sent last time (kept in the earlier file, located by the lineage) under the same
 * AttestationID, status 1 — an attestation's content wrapped again, or a whole record read back
 * and rendered again (a Belcotax fiche with f2028 = 3).
 */
async function cancelVanished(correction: Correction, files: ReceiverFiles, outcomes: OutcomeWriter, counts: RunCounts, wholeRecords: boolean): Promise<void> {
  const gone = await vanished(correction);
  // Whole records (Belcotax fiches) have their line kept since maillon cancels them.
  const contents = await readSentContents(gone, wholeRecords ? 'maillon cancelled whole records such as Belcotax fiches' : undefined);
  let ordinal = counts.extracted;
  for (const [i, [sourceKey, before]] of gone.entries()) {
    const placed = await files.cancel(before.receiver, contents[i]!, before.attestationId).catch((err: unknown) => {
      if (!(err instanceof RecordContentError)) throw err;
      throw new OutboxError(
        `The cancellation of ${sourceKey} (AttestationID ${before.attestationId}, sent in ${before.filePath}) cannot be written: ${err.message}. Nothing was written: cancel that record with the receiver by hand, or correct the schema.`,
        { cause: err },
      );
    });
    if (placed.flush) await placed.flush;
    counts.emitted++;
    counts.cancelled = (counts.cancelled ?? 0) + 1;
    fingerprint(correction, sourceKey, 'status 1', `${before.attestationId} ${before.hash}`);
    const e = outcomes.emitted({
      ordinal: ++ordinal,
      sourceKey,
      recordKey: null,
      fileKey: placed.fileKey,
      position: placed.position,
      attestationId: before.attestationId,
      recordHash: before.hash,
      status: 1,
      contentOffset: placed.contentOffset,
      contentBytes: placed.contentBytes,
    });
    if (e) await e;
  }
}

/** Up to 15 digits: the period code, then the version (0 for the original) and the extraction ordinal on 9 digits. */
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
