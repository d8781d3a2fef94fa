import { z } from 'zod';
import { type Cents, parseCents } from '../domain/cents.js';
import { type Inss, parseInss } from '../domain/inss.js';
import { isLocalDate, type LocalDate, parseLocalDate } from '../period/localDate.js';
import { inssRule } from './commonRules.js';

/**
 * Zod fields that parse an extracted row's values into the domain's branded types, once, where
 * the row enters (docs/adding-a-flow.md). A value of the wrong form fails the row's shape
 * (`record-shape`); a field may instead name the rule a bad value is quarantined under
 * (`ruleIssue`), as the INSS does.
 */

/** A calendar day `YYYY-MM-DD` (as PostgreSQL's json writes a date), as a LocalDate. */
export const localDateField: z.ZodType<LocalDate, string> = z
  .string()
  .refine(isLocalDate, { message: 'expected a calendar date YYYY-MM-DD' })
  .transform((text) => parseLocalDate(text));

/** An integer amount of euro cents, as Cents. */
export const centsField: z.ZodType<Cents, number> = z
  .number()
  .int()
  .transform((n) => parseCents(n));

const inssCheck = inssRule<string>((text) => text);

/**
 * An INSS or BIS number whose check digits match, as Inss. A wrong one quarantines the row under
 * the shared rule `inss-check-digit`, with its message (src/validate/commonRules.ts).
 */
export const inssField: z.ZodType<Inss, string> = z.string().transform((text, ctx) => {
  const problem = inssCheck.check(text);
  if (problem === null) return parseInss(text);
  ctx.addIssue({ code: 'custom', message: problem, params: { rule: inssCheck.id } });
  return z.NEVER;
});

/** The rule a failed field names (`params.rule` of a custom issue), or null for a shape failure. */
export function ruleOfIssue(issue: z.core.$ZodIssue): string | null {
  const rule = (issue as { params?: { rule?: unknown } }).params?.rule;
  return typeof rule === 'string' ? rule : null;
}
