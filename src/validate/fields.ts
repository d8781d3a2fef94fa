import { z } from 'zod';
import type { Cents } from '../domain/cents.js';
import { type Inss, inssProblem } from '../domain/inss.js';
import type { LocalDate } from '../period/localDate.js';
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

/**
 * Types a schema's output as the brand T without a transform: the checks of the schema are what
 * earn the brand. A transform per value (a zod pipe) made parsing a career row about three times
 * as slow as checking it (docs/decisions/0602-branded-types-at-the-row-border.md).
 */
function branded<T, S extends z.ZodType>(schema: S): z.ZodType<T, z.input<S>> {
  return schema as unknown as z.ZodType<T, z.input<S>>;
}

/** An INSS: 11 digits whose check digits match, else the row is quarantined under `inss-check-digit`. */
export const inssField = branded<Inss, z.ZodString>(
  z.string().superRefine((value, ctx) => {
    const problem = inssProblem(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: inssMessage(value, problem), params: { rule: 'inss-check-digit' } });
  }),
);

/** An exact amount of money in integer cents (safe integers only). */
export const centsField = branded<Cents, z.ZodNumber>(z.number().int());

/** A calendar day `YYYY-MM-DD` (PostgreSQL's json of a date); zod's ISO date checks the days of each month, leap years included. */
export const localDateField = branded<LocalDate, z.ZodISODate>(z.iso.date('not a calendar day (YYYY-MM-DD)'));

/**
 * A period key of one kind (`2026-Q3`, `2026-07`, `2026`), parsed into its Period. A row names few
 * periods: each key is parsed once and its Period shared (periods are read-only).
 */
export function periodField(kind: PeriodKind): z.ZodType<Period, string> {
  const known = new Map<string, Period>();
  return z.string().transform((key, ctx) => {
    const seen = known.get(key);
    if (seen !== undefined) return seen;
    const period = periodOfKind(key, kind);
    if (period !== null) {
      if (known.size < 10_000) known.set(key, period);
      return period;
    }
    ctx.addIssue({ code: 'custom', message: notAPeriodKey(key, kind) });
    return z.NEVER;
  });
}

/**
 * A period key of one kind, checked and kept as its key: for the records that carry the key as it is
 * (a tax attestation's quarters), without a Period built per value and formatted back.
 */
export function periodKeyField(kind: PeriodKind): z.ZodType<PeriodKey, string> {
  const known = new Set<string>();
  return branded<PeriodKey, z.ZodString>(
    z.string().check(
      z.check<string>((payload) => {
        const key = payload.value;
        if (known.has(key)) return;
        if (periodOfKind(key, kind) === null) payload.issues.push({ code: 'custom', message: notAPeriodKey(key, kind), input: key });
        else if (known.size < 10_000) known.add(key);
      }),
    ),
  );
}

/** A period key checked by periodKeyField: `2026-Q3`, `2026-07`, `2026` or `2026-07-14`. */
export type PeriodKey = string & { readonly __brand: 'PeriodKey' };

function periodOfKind(key: string, kind: PeriodKind): Period | null {
  try {
    const period = parsePeriod(key);
    return period.kind === kind ? period : null;
  } catch {
    return null;
  }
}

function notAPeriodKey(key: string, kind: PeriodKind): string {
  return `not a ${kind} period key: ${JSON.stringify(key)}`;
}
