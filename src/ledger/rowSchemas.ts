import { z } from 'zod';
import { isLocalDate, type LocalDate } from '../period/localDate.js';
import { SUBMISSION_STATES, type SubmissionKind } from './transitions.js';

/** A BIGINT identity (pg returns it as text), read as a number: ledger ids stay far below 2^53. */
export const ledgerId = z
  .string()
  .regex(/^\d+$/)
  .transform((s) => Number(s));

/** An environment column: R, T or S. */
export const environmentColumn = z.enum(['R', 'T', 'S']);

/** A submission's state column (migration 009). */
export const submissionStateColumn = z.enum(SUBMISSION_STATES);

/** A submission's kind column. */
export const submissionKindColumn = z.enum(['original', 'correction', 'replacement', 'duplicate'] satisfies SubmissionKind[]);

/** A run's state column. */
export const runStateColumn = z.enum(['running', 'succeeded', 'failed']);

/**
 * The columns of a submission that name its files and say how far its GO went: what sending and
 * cancelling both read (src/transport).
 */
export const submissionFilesColumns = {
  receiver: z.string(),
  purpose: z.string(),
  sender: z.string(),
  creation_date: z
    .string()
    .refine(isLocalDate)
    .transform((d) => d as LocalDate),
  sequence: z.string(),
  environment: environmentColumn,
  parts: z.number(),
  go_started_at: z.date().nullable(),
};
