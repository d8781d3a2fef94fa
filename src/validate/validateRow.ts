import type { z } from 'zod';
import { issueRule } from './fields.js';
import type { Rule, Violation } from './rule.js';

/** The verdict on one extracted row. */
export type Verdict<Row> = { ok: true; row: Row } | { ok: false; violation: Violation };

/**
 * Checks a raw extracted row: first its shape (zod, rule `record-shape`), then the fields that
 * stand for a rule (an INSS's check digits, src/validate/fields.ts), then each rule in declared
 * order; the first failure decides the quarantine.
 */
export function validateRow<Row>(raw: unknown, schema: z.ZodType<Row>, rules: readonly Rule<Row>[]): Verdict<Row> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    // A malformed row is reported first; then a field that stands for a record rule (an INSS).
    const issues = parsed.error.issues;
    const shape = issues.find((i) => issueRule(i) === null);
    if (shape) return { ok: false, violation: { rule: 'record-shape', message: `field ${shape.path.join('.') || '(record)'}: ${shape.message}` } };
    const ruled = issues[0]!;
    return { ok: false, violation: { rule: issueRule(ruled)!, message: ruled.message } };
  }
  for (const rule of rules) {
    const message = rule.check(parsed.data);
    if (message !== null) return { ok: false, violation: { rule: rule.id, message } };
  }
  return { ok: true, row: parsed.data };
}
