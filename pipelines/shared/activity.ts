import type { LocalDate } from '../../src/period/localDate.js';
import type { CATEGORIES } from './codes.js';

/** An activity period as the extraction queries return it (days inclusive, end null = open). */
export interface ActivitySpan {
  category: (typeof CATEGORIES)[number] | null;
  start: string;
  end: string | null;
}

/** The category of the activity that ends last within a period (open ends count as its last day; ties: latest start). */
export function categoryAtEnd(activities: readonly ActivitySpan[], lastDay: LocalDate): ActivitySpan['category'] {
  const clippedEnd = (a: ActivitySpan): string => (a.end === null || a.end > lastDay ? lastDay : a.end);
  const sorted = [...activities].sort((a, b) => clippedEnd(a).localeCompare(clippedEnd(b)) || a.start.localeCompare(b.start));
  return sorted.at(-1)?.category ?? null;
}
