import type { z } from 'zod';
import type { LocalDate } from '../period/localDate.js';
import type { Period, PeriodKind } from '../period/period.js';
import type { FileContext, XmlEnvelope } from '../render/envelope.js';
import type { Rule, Violation } from '../validate/rule.js';

/** What a record mapping may know besides its row: the period and the as-of day. */
export interface RecordContext {
  period: Period;
  /** Payments count only if their value date is on or before this day (Europe/Brussels). */
  asOfDay: LocalDate;
}

/** Identification the engine gives every emitted record. */
export interface RecordIdentity {
  /** Up to 15 digits: the period code followed by the record's 9-digit extraction ordinal. */
  attestationId: string;
  /** 0 original (1 cancellation, 2 replacement: reruns). */
  status: number;
  /** The run's creation date (Europe/Brussels). */
  creationDate: LocalDate;
  /** Position of the record in its file, 1-based. */
  position: number;
}

/** Where an emitted record goes: a receiver id, or a quarantine rule when no receiver can take it. */
export type Route = { receiver: string } | { quarantine: Violation };

/** What every XML output declares, whatever its records. */
interface XmlFile<Rec> {
  kind: 'xml';
  /** XSD path under `schemas/`; the engine also checks every record's values against its facets. */
  schema: string;
  envelope: XmlEnvelope<Rec, any>;
  /**
   * A check of the written file beyond its XSD (e.g. control totals), fed line by line with the
   * text as it goes to the file (one record per line: the engine holds every record to it);
   * `end` returns what is wrong, or null. The file is not published when it fails.
   */
  check?: () => LineCheck;
}

/**
 * One XML file per receiver, one record element per line, validated against an XSD. The record
 * is declared one of two ways (docs/engine-contracts.md):
 * - `attestation`: a BCSS attestation. The engine writes `<Attestation>`, its
 *   `<AttestationIdentification>` (AttestationID, AttestationStatus, CreationDate) and
 *   `</Attestation>`; the flow gives the elements that follow the identification. The engine
 *   keeps where that content is in the file, so that a rerun can cancel or replace one record.
 * - `record`: a record element the flow writes whole (no identification); such a flow is
 *   corrected by sending the whole period again (`corrections: 'whole-file'`).
 * Text goes through `el`/`optionalEl` (src/render/xml.ts): escaped, kept on one line, and checked
 * against the schema's facets while the engine renders the record.
 */
export type XmlOutput<Rec> = XmlFile<Rec> &
  (
    | { attestation(rec: Rec, file: FileContext): string; record?: undefined }
    | { record(rec: Rec, id: RecordIdentity, file: FileContext): string; attestation?: undefined }
  );

/** A streaming check of a written file. */
export interface LineCheck {
  line(text: string): void;
  end(): string | null;
}

/** One aggregated CSV table of a CSV-tables output. */
export interface CsvTable {
  /** Table name, also the file's key (`affiliates`, `contributions`…). */
  name: string;
  /** Columns in order; `sum` columns are totalled in the manifest. */
  columns: readonly { name: string; sum?: boolean }[];
}

/**
 * Records aggregated into CSV tables plus a manifest (row counts, column sums, quarantined
 * records), all parts of one submission. S is the aggregation state (small: one entry per cell).
 */
export interface CsvTablesOutput<Rec, S = any> {
  kind: 'csvTables';
  tables: readonly CsvTable[];
  state(): S;
  /** Adds a record to the aggregates; returns the name of the table it counts in. */
  add(state: S, rec: Rec): string;
  /** The final rows of a table, in a stable order, values in column order. */
  rows(state: S, table: string): (string | number)[][];
}

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
  extract: {
    /** A query selecting ONE json column per record; `:periodStart`, `:periodEnd`, `:periodKey`, `:asOfDay`… are bound by the engine. */
    sql: string;
    /** The dossier key of a raw row (affiliate_id, allowance_id…), read before validation. */
    sourceKey(raw: unknown): string;
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
