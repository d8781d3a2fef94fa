import { z } from 'zod';
import type { LocalDate } from '../../src/period/localDate.js';
import { localDateField } from '../../src/validate/fields.js';
import { CATEGORIES } from './codes.js';
import { reachesIntoPeriod } from './reachesIntoPeriod.js';

/** An activity period as the extraction queries return it (days inclusive, end null = open). */
export interface ActivitySpan {
  category: (typeof CATEGORIES)[number] | null;
  start: LocalDate;
  end: LocalDate | null;
}

/** The row schema's field of one ActivitySpan (ACTIVITY_CTE's json objects). */
export const activitySpanField: z.ZodType<ActivitySpan, unknown> = z.object({
  category: z.enum(CATEGORIES).nullable(),
  start: localDateField,
  end: localDateField.nullable(),
});

/** The category of the activity that ends last within a period (open ends count as its last day; ties: latest start). */
export function categoryAtEnd(activities: readonly ActivitySpan[], lastDay: LocalDate): ActivitySpan['category'] {
  // One pass, once per record: days in YYYY-MM-DD compare as strings; of equal spans, the later
  // in the list wins.
  let best: ActivitySpan | undefined;
  let bestEnd = '';
  for (const a of activities) {
    const end = a.end === null || a.end > lastDay ? lastDay : a.end;
    if (best === undefined || end > bestEnd || (end === bestEnd && a.start >= best.start)) {
      best = a;
      bestEnd = end;
    }
  }
  return best?.category ?? null;
}

/** SQL condition on a `dossier.activity_periods` row: it reaches into the run's period, its dates read in either order (reachesIntoPeriod). */
export const REACHES_INTO_PERIOD = reachesIntoPeriod('start_date', 'end_date');

/**
 * SQL CTE `act`: per affiliate, the activity periods (not assimilations) reaching into the period
 * (REACHES_INTO_PERIOD), as a json array of ActivitySpan in start order. Use as
 * `WITH ${ACTIVITY_CTE}, …`.
 */
export const ACTIVITY_CTE = `
act AS (
  SELECT affiliate_id, json_agg(json_build_object('category', category, 'start', start_date, 'end', end_date)
                                ORDER BY start_date, category) AS activities
  FROM dossier.activity_periods
  WHERE kind = 'activity' AND ${REACHES_INTO_PERIOD}
  GROUP BY affiliate_id
)`;
