import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Environment } from '../config/config.js';
import type { Pool, PoolClient } from '../db/database.js';
import { bindSql } from '../extract/bindSql.js';
import { extractRows } from '../extract/extractRows.js';
import { createOutcomeWriter } from '../ledger/outcomeWriter.js';
import type { RunCounts } from '../ledger/runs.js';
import { brusselsTimeOfDay, type LocalDate } from '../period/localDate.js';
import { formatPeriod, lastDay, type Period, periodCode } from '../period/period.js';
import { envelopeEnd, envelopeStart } from '../render/envelope.js';
import { createFileSink, type FileSink } from '../render/fileSink.js';
import { validateRow } from '../validate/validateRow.js';
import type { AnyPipeline, RecordContext } from './pipeline.js';

/** A rendered, closed temporary file for one receiver, not yet named nor published. */
export interface RenderedFile {
  receiver: string;
  fileKey: string;
  tmpPath: string;
  records: number;
  bytes: number;
  sha256: string;
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
  onProgress?: (extracted: number) => void;
}

/** What the render step produced. */
export interface RenderOutput {
  counts: RunCounts;
  quarantineByRule: Record<string, number>;
  files: RenderedFile[];
}

/**
 * Extracts, validates, renders: every extracted row becomes exactly one outcome row in the
 * ledger (emitted at a file position, or quarantined under a rule) and each emitted record
 * is appended to its receiver's temporary file. Runs inside the caller's ledger transaction.
 */
export async function renderFiles(dossier: Pool, tx: PoolClient, input: RenderInput): Promise<RenderOutput> {
  const { pipeline: p, period } = input;
  const ctx: RecordContext = { period, asOfDay: input.asOfDay };
  const outcomes = createOutcomeWriter(tx, input.runId);
  const open = new Map<string, { sink: FileSink; records: number; fileKey: string }>();
  const counts: RunCounts = { extracted: 0, emitted: 0, quarantined: 0 };
  const quarantineByRule: Record<string, number> = {};
  const code = periodCode(period);
  const sql = bindSql(p.extract.sql, {
    periodKey: formatPeriod(period),
    periodStart: period.start,
    periodEnd: period.end,
    periodLastDay: lastDay(period),
    year: period.year,
    asOfDay: input.asOfDay,
  });
  try {
    for await (const raw of extractRows(dossier, sql)) {
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
      let file = open.get(route.receiver);
      if (!file) {
        file = await openFile(input, route.receiver, open.size + 1);
        open.set(route.receiver, file);
      }
      const position = ++file.records;
      const attestationId = `${code}${String(ordinal).padStart(9, '0')}`;
      // Awaited only when a buffer is flushed: most records cost no promise at all.
      const w = file.sink.write(`${p.xml.record(rec, { attestationId, status: 0, creationDate: input.creationDate })}\n`);
      if (w) await w;
      counts.emitted++;
      const recordHash = createHash('sha256').update(JSON.stringify(rec)).digest('hex').slice(0, 32);
      const e = outcomes.emitted({ ordinal, sourceKey, recordKey, fileKey: file.fileKey, position, attestationId, recordHash });
      if (e) await e;
    }
    await outcomes.end();
    const files: RenderedFile[] = [];
    for (const [receiver, f] of [...open.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      await f.sink.write(envelopeEnd(p.xml.root, f.records));
      const { bytes, sha256 } = await f.sink.close();
      files.push({ receiver, fileKey: f.fileKey, tmpPath: f.sink.path, records: f.records, bytes, sha256 });
    }
    return { counts, quarantineByRule, files };
  } catch (err) {
    for (const f of open.values()) await f.sink.discard();
    throw err;
  }
}

async function openFile(input: RenderInput, receiver: string, n: number): Promise<{ sink: FileSink; records: number; fileKey: string }> {
  const fileKey = `${receiver}#1`;
  const sink = await createFileSink(path.join(input.tmpDir, `run${input.runId}-${n}.xml.part`));
  const p = input.pipeline;
  await sink.write(
    envelopeStart({
      root: p.xml.root,
      processType: p.xml.processType,
      version: p.xml.version,
      sender: input.sender,
      receiver,
      environment: input.environment,
      periodCode: periodCode(input.period),
      asOf: input.asOf,
      creationDate: input.creationDate,
      creationHour: brusselsTimeOfDay(input.creation),
    }),
  );
  return { sink, records: 0, fileKey };
}
