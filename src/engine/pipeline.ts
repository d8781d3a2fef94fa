import type { z } from 'zod';
import type { LocalDate } from '../period/localDate.js';
import type { Period, PeriodKind } from '../period/period.js';
import type { CsvTablesOutput, XmlOutput } from '../render/outputContracts.js';
import type { Rule, Violation } from '../validate/rule.js';

export type { CsvTable, CsvTablesOutput, LineCheck, RecordIdentity, XmlOutput } from '../render/outputContracts.js';

/** What a record mapping may know besides its row: the period and the as-of day. */
export interface RecordContext {
  period: Period;
  /** Payments count only if their value date is on or before this day (Europe/Brussels). */
  asOfDay: LocalDate;
}

/** Where an emitted record goes: a receiver id, or a quarantine rule when no receiver can take it. */
export type Route = { receiver: string } | { quarantine: Violation };

/** Printable documents, one per emitted record (e.g. an attestation per affiliate), kept beside the run. */
export interface DocumentOutput<Rec> {
  /** File name of the record's document (no folder), e.g. `A000000001.html`. */
  name(rec: Rec): string;
  render(rec: Rec, ctx: RecordContext): string;
  /**
   * Where this object is exported (`import.meta.url` and the export's name): the engine then
   * renders and archives the documents in a worker thread, on the second core.
   */
  source?: { module: string; exportName: string };
}

/**
 * One outgoing flow, declared as data plus small pure functions; `src/engine/runPipeline.ts`
 * runs every pipeline the same way. A pipeline imports no driver, no SFTP, no cron, no logger.
 */
export interface Pipeline<Row = unknown, Rec = unknown> {
  /** Flow id, e.g. `career`. */
  id: string;
  /** 4-character purpose code of the batch channel, e.g. `CARR`. */
  purpose: string;
  title: string;
  periodKind: PeriodKind;
  /** When the flow runs: a cron expression in Europe/Brussels. */
  schedule: string;
  /** Last day the receiver must have the data for a period. */
  deadline(period: Period): LocalDate;
  /**
   * Last day (Europe/Brussels) the receiver accepts any file for a period, original or correction;
   * from the day after, run, rerun, backfill, serve and send refuse the period (PeriodClosedError).
   * Absent: the flow's periods never close.
   */
  closesAfter?(period: Period): LocalDate;
  extract: {
    /** A query selecting ONE json column per record; `:periodStart`, `:periodEnd`, `:periodKey`, `:asOfDay`… are bound by the engine. */
    sql: string;
    /** The dossier key of a raw row (affiliate_id, allowance_id…), read before validation. */
    sourceKey(raw: unknown): string;
    /**
     * Optional: a query selecting the source key (column `key`) of each dossier row of the period,
     * with no computation (same placeholders). With it, status and the report count the rows that
     * reached the dossier after the period was run (absent from its lineage): src/reconcile/lateRecords.ts.
     */
    keysSql?: string;
  };
  /** A query returning ONE json object of facts reported beside the records (same placeholders as `extract.sql`). */
  facts?: string;
  /** Shape of one extracted row. */
  row: z.ZodType<Row>;
  /** Record rules, checked in order; the first failure quarantines the row. */
  rules: readonly Rule<Row>[];
  /** The person the record is about (INSS), kept in the lineage to match replies; null when none. */
  recordKey(row: Row): string | null;
  toRecord(row: Row, ctx: RecordContext): Rec;
  route(rec: Rec, row: Row, ctx: RecordContext): Route;
  output: XmlOutput<Rec> | CsvTablesOutput<Rec>;
  /**
   * How a rerun corrects what was sent: `records` (default) sends new records, replacements and
   * cancellations; `whole-file` sends the whole period again (aggregates, Belcotax sendings).
   */
  corrections?: 'records' | 'whole-file';
  documents?: DocumentOutput<Rec>;
}

/** Any pipeline, whatever its row and record types. */
export type AnyPipeline = Pipeline<any, any>;
