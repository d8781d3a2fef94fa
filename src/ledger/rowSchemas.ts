import { z } from 'zod';
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
