import { z } from 'zod';
import type { Cents } from '../domain/cents.js';
import { type Inss, inssProblem } from '../domain/inss.js';
import { isLocalDate, type LocalDate } from '../period/localDate.js';
import { type Period, type PeriodKind, parsePeriod } from '../period/period.js';
import { inssMessage } from './commonRules.js';

// The zod fields of the pipelines' row schemas: a row is parsed into maillon's branded types once,
// where it enters (src/validate/validateRow.ts), and the flow works with those types from then on.
// A field whose failure is a record rule rather than a malformed row carries the rule's id in its
// issue (`params.rule`): validateRow quarantines under that rule, after the row's shape is known good.

/** The rule id a zod issue stands for, when a field gives one (else the row's shape is wrong). */
export function issueRule(issue: z.core.$ZodIssue): string | null {
  const rule = (issue as { params?: { rule?: unknown } }).params?.rule;
  return typeof rule === 'string' ? rule : null;
}

/** An INSS: 11 digits whose check digits match, else the row is quarantined under `inss-check-digit`. */
export const inssField = z
  .string()
  .superRefine((value, ctx) => {
    const problem = inssProblem(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: inssMessage(value, problem), params: { rule: 'inss-check-digit' } });
  })
  .transform((value) => value as Inss);

/** An exact amount of money in integer cents. */
export const centsField = z
  .number()
  .int()
  .transform((value) => value as Cents);

/** A calendar day `YYYY-MM-DD` (PostgreSQL's json of a date). */
export const localDateField = z
  .string()
  .refine(isLocalDate, 'not a calendar day (YYYY-MM-DD)')
  .transform((value) => value as LocalDate);

/** A period key of one kind (`2026-Q3`, `2026-07`, `2026`), parsed into its Period. */
export function periodField(kind: PeriodKind): z.ZodType<Period, string> {
  return z.string().transform((key, ctx) => {
    try {
      const period = parsePeriod(key);
      if (period.kind === kind) return period;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: `not a ${kind} period key: ${JSON.stringify(key)}` });
    return z.NEVER;
  });
}
