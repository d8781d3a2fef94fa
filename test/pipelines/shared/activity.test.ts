import { describe, expect, it } from 'vitest';
import { type ActivitySpan, categoryAtEnd } from '../../../pipelines/shared/activity.js';
import { type LocalDate, parseLocalDate } from '../../../src/period/localDate.js';

const Q1_END = '2024-03-31' as LocalDate;
const span = (category: ActivitySpan['category'], start: string, end: string | null): ActivitySpan => ({
  category,
  start: parseLocalDate(start),
  end: end === null ? null : parseLocalDate(end),
});

describe('categoryAtEnd', () => {
  it('takes the activity that ends last within the period, an open end counting as its last day', () => {
    expect(categoryAtEnd([span('main', '2020-01-01', null), span('complementary', '2023-01-01', '2024-02-15')], Q1_END)).toBe('main');
    expect(categoryAtEnd([span('complementary', '2023-01-01', '2024-02-15'), span('main', '2020-01-01', '2024-01-31')], Q1_END)).toBe('complementary');
  });

  it('clips ends after the period to its last day, then prefers the latest start', () => {
    // Both end at or after 31 March: equal once clipped, the later start wins, in either order.
    const a = span('main', '2020-01-01', '2025-06-30');
    const b = span('after_pension', '2024-02-28', null);
    expect(categoryAtEnd([a, b], Q1_END)).toBe('after_pension');
    expect(categoryAtEnd([b, a], Q1_END)).toBe('after_pension');
  });

  it('of two spans alike in end and start, takes the later in the list; null for none', () => {
    expect(categoryAtEnd([span('main', '2024-01-01', null), span('complementary', '2024-01-01', null)], Q1_END)).toBe('complementary');
    expect(categoryAtEnd([span('complementary', '2024-01-01', null), span('main', '2024-01-01', null)], Q1_END)).toBe('main');
    expect(categoryAtEnd([span(null, '2024-01-01', null)], Q1_END)).toBeNull();
    expect(categoryAtEnd([], Q1_END)).toBeNull();
  });
});
