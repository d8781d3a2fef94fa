import type { LocalDate } from '../period/localDate.js';
import type { FileContext, XmlEnvelope } from './envelope.js';

// The output contracts a pipeline declares and the writers in this folder honour; the engine
// (src/engine/pipeline.ts) re-exports them as part of a pipeline's declaration.

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

/** What every XML output declares, whatever its records. */
interface XmlFile<Rec> {
  kind: 'xml';
  /** XSD path under `schemas/`; the engine also checks every record's values against its facets. */
  schema: string;
  envelope: XmlEnvelope<Rec, unknown>;
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
 *   corrected by sending the whole period again (`corrections: 'whole-file'`). With `readRecord`
 *   the engine also keeps where each record is in its file, and a rerun cancels a record sent
 *   before that the period no longer has: it reads the record back from that line and renders it
 *   again with `record`, status 1, like any record of the file (Belcotax's f2028 = 3).
 * Text goes through `el`/`optionalEl` (src/render/xml.ts): escaped, kept on one line, and checked
 * against the schema's facets while the engine renders the record.
 */
export type XmlOutput<Rec> = XmlFile<Rec> &
  (
    | { attestation(rec: Rec, file: FileContext): string; record?: undefined; readRecord?: undefined }
    | {
        record(rec: Rec, id: RecordIdentity, file: FileContext): string;
        /** The record a line written by `record` states, read back to cancel it; throws a typed error with a sentence when it cannot. */
        readRecord?(line: string): Rec;
        attestation?: undefined;
      }
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
export interface CsvTablesOutput<Rec, S = unknown> {
  kind: 'csvTables';
  tables: readonly CsvTable[];
  state(): S;
  /** Adds a record to the aggregates; returns the name of the table it counts in. */
  add(state: S, rec: Rec): string;
  /** The final rows of a table, in a stable order, values in column order. */
  rows(state: S, table: string): (string | number)[][];
}

/** A record as it goes to its file: one line, and where the flow's content is in it. */
export interface RenderedRecord {
  /** The record element, without a line break. */
  line: string;
  /** Length of what the engine wrote before the flow's content (ASCII: also its bytes). */
  prefix: number;
  /** Length of what the engine wrote after it (ASCII). */
  suffix: number;
  /**
   * True when the record's content is kept in the lineage for a cancellation: what follows the
   * engine's identification of an attestation, or the whole line of a record the flow can read back.
   */
  keepContent: boolean;
}
