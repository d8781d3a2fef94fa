/**
 * SQL condition on a dossier row with a start and an optional (open) end column, both days
 * inclusive: it reaches into the run's period, its dates read in either order. The first arm is
 * the overlap of a coherent row (start ≤ end, or open), unchanged; the second takes a row that
 * ends before it starts into every period from its end to its start, so that `period-incoherent`
 * quarantines its record there (as written, one from August to March overlaps no quarter and its
 * record was in no run, or went on as if the row were not there). Not least()/greatest(): the
 * planner cannot estimate them from the columns' statistics (35,000 of a quarter's 92,000 activity
 * periods at 100,000 affiliates), while these arms keep the estimate, hence the plan, of the
 * overlap. The columns are SQL identifiers written by the pipelines, never data.
 */
export function reachesIntoPeriod(start: string, end: string): string {
  return `((${start} < :periodEnd AND (${end} IS NULL OR ${end} >= :periodStart))
    OR (${end} < ${start} AND ${end} < :periodEnd AND ${start} >= :periodStart))`;
}
