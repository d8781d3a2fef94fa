import type { ReportCheck } from './report.js';
import type { PeriodVersion } from './versions.js';

/**
 * One version's lineage (`maillon.record_outcomes`), counted in the report's one pass over it:
 * rows by outcome, the emitted rows that cancel, quarantined rows by rule, emitted rows by file.
 */
export interface LineageCounts {
  /** Rows by outcome: emitted, quarantined, unchanged, and any other outcome the lineage holds. */
  outcomes: Map<string, number>;
  /** Emitted rows that cancel a record a receiver holds (status 1): the run's `cancelled`. */
  cancellations: number;
  /** Quarantined rows by rule ('' for a row without one). */
  byRule: Map<string, number>;
  /** Emitted rows by file key. */
  byFile: Map<string, number>;
}

/** One group of a run's lineage rows: same outcome, rule, file, and whether they cancel. */
export interface LineageGroup {
  outcome: string;
  rule: string | null;
  fileKey: string | null;
  cancelling: boolean;
  n: number;
}

/** The counts of a lineage without rows. */
export function emptyLineage(): LineageCounts {
  return { outcomes: new Map(), cancellations: 0, byRule: new Map(), byFile: new Map() };
}

/** Adds one group of rows to its run's lineage counts. */
export function addLineageGroup(l: LineageCounts, g: LineageGroup): void {
  const add = (m: Map<string, number>, key: string): Map<string, number> => m.set(key, (m.get(key) ?? 0) + g.n);
  add(l.outcomes, g.outcome);
  if (g.outcome === 'quarantined') add(l.byRule, g.rule ?? '');
  if (g.outcome === 'emitted' && g.fileKey !== null) add(l.byFile, g.fileKey);
  if (g.outcome === 'emitted' && g.cancelling) l.cancellations += g.n;
}

/** Every row of the lineage, whatever its outcome. */
export function lineageRows(l: LineageCounts): number {
  let n = 0;
  for (const rows of l.outcomes.values()) n += rows;
  return n;
}

// The outcomes a run counts, each held to the counter of the same name; any other outcome in the
// lineage is held to 0: a record under it is neither sent, nor quarantined, nor unchanged.
const COUNTED = ['emitted', 'quarantined', 'unchanged'] as const;

/**
 * A version's lineage held to its run's counters (`runs.emitted`, `.quarantined`, `.unchanged`,
 * `.cancelled`) outcome by outcome, and one row per extracted or cancelled record: a record
 * moved from one outcome to another, or a counter changed, fails it, naming the run and the numbers.
 */
export function lineageCheck(v: PeriodVersion, l: LineageCounts): ReportCheck {
  const c = v.counts;
  const counted = new Map<string, number>(COUNTED.map((o) => [o, c[o]]));
  const outcomes = [...COUNTED, ...[...l.outcomes.keys()].filter((o) => !counted.has(o)).sort()];
  const differ: string[] = [];
  for (const o of outcomes) {
    const has = l.outcomes.get(o) ?? 0;
    const want = counted.get(o) ?? 0;
    if (has !== want) differ.push(`${has} ${o}, not ${want}`);
  }
  if (l.cancellations !== c.cancelled) differ.push(`${l.cancellations} cancelling, not ${c.cancelled}`);
  const rows = lineageRows(l);
  if (rows !== c.extracted + c.cancelled) differ.push(`${rows} rows, not ${c.extracted + c.cancelled} (one per extracted or cancelled record)`);
  const cancelling = l.cancellations || c.cancelled ? ` (${l.cancellations} cancelling)` : '';
  const lineage = outcomes.map((o, i) => `${l.outcomes.get(o) ?? 0} ${o}${i === 0 ? cancelling : ''}`).join(' + ');
  const run = `run ${v.runId} (${v.kind}) counted ${c.extracted} extracted${c.cancelled ? ` + ${c.cancelled} cancelled` : ''} = ${c.emitted} emitted + ${c.quarantined} quarantined + ${c.unchanged} unchanged`;
  return {
    name: `lineage of run ${v.runId} matches its counts`,
    ok: differ.length === 0,
    detail: differ.length === 0 ? `${run}; its lineage holds ${lineage}` : `${run}; its lineage holds ${lineage}: ${differ.join('; ')}`,
  };
}

/** The quarantine by rule (the rows the quarantine lists) adds up to the quarantined count the report shows. */
export function quarantineByRuleCheck(runId: number, byRule: Record<string, number>, quarantined: number): ReportCheck {
  const listed = Object.values(byRule).reduce((n, k) => n + k, 0);
  return {
    name: 'quarantine by rule adds up to the quarantined count',
    ok: listed === quarantined,
    detail: `${listed} listed by rule, ${quarantined} quarantined by run ${runId}`,
  };
}
