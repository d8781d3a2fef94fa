import { describe, expect, it } from 'vitest';
import { type Affiliation, chooseInsurer } from '../../src/domain/insurer.js';
import { createRandom } from '../../src/generate/random.js';
import type { LocalDate } from '../../src/period/localDate.js';

const day = '2026-09-30' as LocalDate;
const aff = (insurer: string, from: string, to: string | null = null): Affiliation => ({ insurer, from, to });

/** The rule of flows.md written the long way: sort a copy, take the last. The test's oracle. */
function byTheRule(list: readonly Affiliation[], on: string): string | null {
  const latest = (l: readonly Affiliation[]) => [...l].sort((a, b) => (a.from === b.from ? a.insurer.localeCompare(b.insurer) : a.from.localeCompare(b.from))).at(-1);
  return (latest(list.filter((a) => a.from <= on && (a.to === null || a.to >= on))) ?? latest(list))?.insurer ?? null;
}

describe('chooseInsurer', () => {
  it('takes the affiliation valid on the day, even if a later one starts after it', () => {
    expect(chooseInsurer([aff('100', '2020-01-01', '2026-09-30'), aff('200', '2026-10-01')], day)).toBe('100');
  });
  it('of several valid that day, takes the latest start, then the highest code', () => {
    expect(chooseInsurer([aff('500', '2026-01-01'), aff('300', '2026-07-01'), aff('100', '2025-01-01')], day)).toBe('300');
    expect(chooseInsurer([aff('600', '2026-07-01'), aff('900', '2026-07-01'), aff('300', '2026-07-01')], day)).toBe('900');
  });
  it('with none valid on the day, takes the latest start among those given', () => {
    expect(chooseInsurer([aff('400', '2026-07-01', '2026-08-31'), aff('200', '2026-07-15', '2026-07-31')], day)).toBe('200');
  });
  it('counts both ends as days of the affiliation', () => {
    expect(chooseInsurer([aff('100', '2026-01-01', '2026-09-29'), aff('200', '2026-09-30', '2026-09-30')], day)).toBe('200');
  });
  it('returns null without affiliations', () => {
    expect(chooseInsurer([], day)).toBeNull();
  });
  it('agrees with the rule on 5,000 random lists', () => {
    const rnd = createRandom(7);
    const days = ['2026-06-30', '2026-07-01', '2026-08-15', '2026-09-29', '2026-09-30', '2026-10-01'];
    const codes = ['100', '200', '300', '400', '500', '600', '900'];
    let nulls = 0;
    let noneValid = 0;
    for (let i = 0; i < 5000; i++) {
      const list = Array.from({ length: rnd.int(0, 4) }, () => {
        const from = rnd.pick(days);
        const to = rnd.chance(1 / 3) ? null : rnd.pick(days);
        return aff(rnd.pick(codes), from, to !== null && to < from ? from : to);
      });
      const expected = byTheRule(list, day);
      if (expected === null) nulls++;
      else if (!list.some((a) => a.from <= day && (a.to === null || a.to >= day))) noneValid++;
      expect(chooseInsurer(list, day), JSON.stringify(list)).toBe(expected);
    }
    // Every branch was drawn: empty lists, lists with no affiliation valid on the day, the rest.
    expect(nulls).toBeGreaterThan(0);
    expect(noneValid).toBeGreaterThan(0);
  });
});
