import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PIPELINES } from '../../pipelines/index.js';
import { sourceFiles } from '../architecture/folderGraph.js';
import { activityCategoryRule, coherentPeriodsRule, companyNumberRule, inssRule, type Span } from '../../src/validate/commonRules.js';

const SHARED = ['inss-check-digit', 'period-incoherent', 'activity-without-category', 'company-number-check-digit'] as const;

describe('the rules several flows share', () => {
  it('inss-check-digit: names the problem without the full INSS, and skips a row without one', () => {
    const rule = inssRule((r: { inss: string | null }) => r.inss);
    expect(rule.check({ inss: '85073003328' })).toBeNull();
    expect(rule.check({ inss: null })).toBeNull();
    expect(rule.check({ inss: '8507300332' })).toBe('the INSS is not 11 digits; correct it in the dossier');
    const message = rule.check({ inss: '85073003329' })!;
    expect(message).toContain('85*******29');
    expect(message).not.toContain('85073003329');
  });

  it('period-incoherent, activity-without-category and company-number-check-digit say where the dossier is wrong', () => {
    const periods = coherentPeriodsRule((r: { s: Span[] }) => r.s);
    expect(
      periods.check({
        s: [
          { start: '2024-01-01', end: null },
          { start: '2024-03-01', end: '2024-03-01' },
        ],
      }),
    ).toBeNull();
    expect(periods.check({ s: [{ start: '2024-03-01', end: '2024-02-28' }] })).toBe('a period ends (2024-02-28) before it starts (2024-03-01); correct the dates in the dossier');
    expect(periods.check({ s: [{ start: '2024-08-10', end: '2024-03-01', what: 'the mutual insurer affiliation of D06 (insurer 300)' }] })).toBe(
      'the mutual insurer affiliation of D06 (insurer 300) ends (2024-03-01) before it starts (2024-08-10); correct the dates in the dossier',
    );
    const category = activityCategoryRule((r: { a: { category: string | null }[] }) => r.a);
    expect(category.check({ a: [{ category: 'main' }] })).toBeNull();
    expect(category.check({ a: [{ category: 'main' }, { category: null }] })).toBe('an activity period has no category (main, complementary…); complete it in the dossier');
    const company = companyNumberRule((r: { n: (string | null)[] }) => r.n);
    expect(company.check({ n: ['0403170701', null] })).toBeNull();
    expect(company.check({ n: ['0403170702'] })).toBe('company number 0403170702 fails the KBO/BCE check (mod 97); correct it in the dossier');
  });

  it('are defined once, in src/validate/commonRules.ts: no pipeline declares one of their ids itself', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const own = sourceFiles(path.join(root, 'pipelines')).flatMap((file) =>
      SHARED.filter((id) => new RegExp(`id:\\s*'${id}'`).test(readFileSync(file, 'utf8'))).map((id) => `${path.relative(root, file)}: ${id}`),
    );
    expect(own).toEqual([]);
  });

  it('are each used by at least one flow (companyNumberRule was used by none); the INSS is checked by the row schemas', () => {
    const ids = PIPELINES.flatMap((p) => p.rules.map((r) => r.id)).filter((id) => (SHARED as readonly string[]).includes(id));
    expect(new Set(ids)).toEqual(new Set(SHARED.filter((id) => id !== 'inss-check-digit')));
  });
});
