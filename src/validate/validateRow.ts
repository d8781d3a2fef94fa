import type { z } from 'zod';
import { ruleOfIssue } from './fields.js';
import type { Rule, Violation } from './rule.js';

/** The verdict on one extracted row. */
export type Verdict<Row> = { ok: true; row: Row } | { ok: false; violation: Violation };

/**
 * Checks a raw extracted row: first its shape (zod, rule `record-shape`, or the rule a field
 * names, as `inssField` names `inss-check-digit`: src/validate/fields.ts), then each rule in
 * declared order; the first failing rule decides the quarantine.
 */
export function validateRow<Row>(raw: unknown, schema: z.ZodType<Row>, rules: readonly Rule<Row>[]): Verdict<Row> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const rule = ruleOfIssue(issue);
    if (rule !== null) return { ok: false, violation: { rule, message: issue.message } };
    return {
      ok: false,
      violation: { rule: 'record-shape', message: `field ${issue.path.join('.') || '(record)'}: ${issue.message}` },
    };
  }
  for (const rule of rules) {
    const message = rule.check(parsed.data);
    if (message !== null) return { ok: false, violation: { rule: rule.id, message } };
  }
  return { ok: true, row: parsed.data };
}
