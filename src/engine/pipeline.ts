import type { z } from 'zod';
import type { LocalDate } from '../period/localDate.js';
import type { Period, PeriodKind } from '../period/period.js';
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
}

/** Where an emitted record goes: a receiver id, or a quarantine rule when no receiver can take it. */
export type Route = { receiver: string } | { quarantine: Violation };

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
  /** Shape of one extracted row. */
  row: z.ZodType<Row>;
  /** Record rules, checked in order; the first failure quarantines the row. */
  rules: readonly Rule<Row>[];
  /** The person the record is about (INSS), kept in the lineage to match replies. */
  recordKey(row: Row): string | null;
  toRecord(row: Row, ctx: RecordContext): Rec;
  route(rec: Rec, row: Row, ctx: RecordContext): Route;
  xml: {
    /** XSD path under `schemas/`. */
    schema: string;
    /** Root element (the flow code) in the BCSS namespace. */
    root: string;
    processType: string;
    version: string;
    /** One `<Attestation>` element. */
    record(rec: Rec, id: RecordIdentity): string;
  };
}

/** Any pipeline, whatever its row and record types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPipeline = Pipeline<any, any>;
