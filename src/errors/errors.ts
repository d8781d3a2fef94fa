/** Base of every error maillon throws on purpose: a sentence for the operator plus structured fields. */
export class MaillonError extends Error {
  /** Exit code the CLI uses when this error ends a command. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The configuration (environment variables, flags) is missing or invalid. */
export class ConfigError extends MaillonError {
  override readonly exitCode = 2;
}

/** A command-line argument cannot be understood (period key, flow id, instant…). */
export class UsageError extends MaillonError {
  override readonly exitCode = 2;
}

/**
 * A period is past its closing date: its receiver accepts no file for it any more, original or
 * correction. `closedAfter` is the last day a file was accepted (YYYY-MM-DD, Europe/Brussels).
 */
export class PeriodClosedError extends UsageError {
  constructor(
    message: string,
    readonly closedAfter: string,
  ) {
    super(message);
  }
}

/** One break of the dossier CSV contract, located in its file. */
export interface ContractBreak {
  file: string;
  line: number;
  column: string;
  reason: string;
}

/** An import folder breaks the CSV contract; nothing of it was imported. */
export class ImportError extends MaillonError {
  override readonly exitCode = 3;
  constructor(
    readonly folder: string,
    readonly breakCount: number,
    readonly breaks: readonly ContractBreak[],
  ) {
    super(`The folder ${folder} breaks the dossier CSV contract in ${breakCount} place(s); nothing was imported. ` + `Fix the rows listed above and import the folder again.`);
  }
}

/** A rendered file does not conform to its XSD: the file is not written to the outbox. */
export class SchemaConformanceError extends MaillonError {
  override readonly exitCode = 5;
  constructor(
    readonly file: string,
    readonly schema: string,
    readonly details: string,
  ) {
    super(`The rendered file ${file} does not conform to ${schema}; it was not written to the outbox. ` + `This is a defect of the flow's rendering, report it with these details: ${details}`);
  }
}

/**
 * A flow breaks a contract the engine relies on (docs/engine-contracts.md): a record over
 * several lines, an element its schema does not declare, rows out of source-key order… A defect
 * of the flow, found at load or by its first test; nothing is published.
 */
export class PipelineContractError extends MaillonError {
  override readonly exitCode = 5;
  constructor(
    readonly flow: string,
    readonly contract: string,
    detail: string,
  ) {
    super(`The flow ${flow} breaks the engine contract "${contract}": ${detail} (docs/engine-contracts.md). This is a defect of the flow, not of the data.`);
  }
}

/**
 * A value cannot go into its element as the flow's schema states it (too long, wrong form, a
 * character XML cannot carry…). Thrown while a record is rendered: the engine quarantines that
 * record under `rule`. The message names the element and the limit, never the value.
 */
export class RecordContentError extends MaillonError {
  override readonly exitCode = 5;
  constructor(
    readonly rule: string,
    readonly element: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A record's AttestationID would not fit the 15 digits of its schema (more records in one version
 * of a period than its ordinal width holds, or no id left after the highest one the period used):
 * nothing of the version is published. `period` is the period code.
 */
export class AttestationIdExhaustedError extends MaillonError {
  override readonly exitCode = 5;
  constructor(
    readonly period: string,
    message: string,
  ) {
    super(message);
  }
}

/** The database cannot be reached or refused an operation. */
export class DatabaseError extends MaillonError {
  override readonly exitCode = 6;
}

/** The local outbox cannot be written (permissions, disk full…). */
export class OutboxError extends MaillonError {
  override readonly exitCode = 7;
}

/** The ledger holds a state that contradicts the requested operation. */
export class LedgerConflictError extends MaillonError {
  override readonly exitCode = 8;
}

/**
 * A flow's period is already held by its receivers (a live submission): writing it again as an
 * original would send it twice. `submissionIds` are the live submissions.
 */
export class PeriodHeldError extends LedgerConflictError {
  constructor(
    message: string,
    readonly submissionIds: readonly number[],
  ) {
    super(message);
  }
}

/** Another maillon process is running or sending this period or submission right now. */
export class BusyError extends LedgerConflictError {}

/** The flow is paused (maillon pause): no writing run of it until maillon resume. */
export class FlowPausedError extends LedgerConflictError {}

/**
 * A rerun's recomputation is not the plan the operator confirmed (the dossier changed between
 * the plan and the confirmation): nothing is written.
 */
export class PlanChangedError extends MaillonError {
  override readonly exitCode = 14;
}

/** A validator (xmllint) or another external tool is missing or failed to run. */
export class ToolError extends MaillonError {
  override readonly exitCode = 9;
}

/** What the operator asked for does not exist (no run for that period, unknown flow…). */
export class NotFoundError extends MaillonError {
  override readonly exitCode = 4;
}

/** The SFTP transport failed; `retryable` says whether trying again may help (network) or not (host key, auth). */
export class TransportError extends MaillonError {
  override readonly exitCode = 11;
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * What a reply's refusal may depend on: max_reply_bytes (over MAILLON_MAX_REPLY_BYTES), max_unzipped_bytes
 * (a zipped reply's content over MAILLON_MAX_UNZIPPED_BYTES), trust_store (a signature not verifiable
 * against MAILLON_TRUST_STORE), signature (no signature where one is required).
 */
export type ReplyDependency = 'max_reply_bytes' | 'max_unzipped_bytes' | 'trust_store' | 'signature';

/** A reply (ACRF, NOTI) cannot be believed or matched; it is set aside, never lost. */
export class AckError extends MaillonError {
  override readonly exitCode = 12;
  /** The data file the reply names, when it was read that far (the report lists it with that file's period). */
  readonly fileName: string | null;
  /** The setting the refusal depends on, when another value of it may let the reply be read (it is read again once that setting changes). */
  readonly dependsOn: ReplyDependency | null;
  constructor(message: string, options?: { cause?: unknown; fileName?: string; dependsOn?: ReplyDependency }) {
    super(message, options);
    this.fileName = options?.fileName ?? null;
    this.dependsOn = options?.dependsOn ?? null;
  }
}

/** The ledger's event chain does not verify: a row was edited, removed or inserted outside maillon. */
export class LedgerTamperedError extends MaillonError {
  override readonly exitCode = 13;
}

/**
 * An evidence pack (or addendum) on disk does not match its own manifest or the ledger (a file
 * edited, added or removed after it was written; a reply the ledger holds and no pack carries):
 * nothing is exported. `pack` is the folder, `file` the file or reply concerned.
 */
export class EvidenceMismatchError extends MaillonError {
  override readonly exitCode = 13;
  constructor(
    readonly pack: string,
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}
