/** A record rule: a stable id (shown in reports, never renamed) and a check returning why the row fails, or null. */
export interface Rule<Row> {
  readonly id: string;
  check(row: Row): string | null;
}

/** Why one extracted row was quarantined. */
export interface Violation {
  rule: string;
  message: string;
}
