import type { Pool } from '../db/database.js';
import { type RecordIssue, recordIssuesSql, UNMATCHED_DETAIL_SQL, type UnmatchedAnomaly, unmatchedAnomaliesFromSql } from './delivery.js';
import type { QuarantineEntry, Report } from './report.js';
import { listItems, type ListSql, listText, type ListText } from './reportLists.js';

/** The report's long lists, each read when iterated, through COPY; `limit` keeps the first ones of each. */
export interface ReportLists {
  quarantine: AsyncIterable<QuarantineEntry>;
  recordIssues: AsyncIterable<RecordIssue>;
  unmatchedAnomalies: AsyncIterable<UnmatchedAnomaly>;
  /** The same lists as PostgreSQL writes them (CSV rows, JSON text), when they come whole from the ledger. */
  text?: { quarantine: ListText; recordIssues: ListText; unmatchedAnomalies: ListText };
}

/**
 * Streams the quarantine (by rule, then dossier key), the records not simply accepted (by dossier
 * key) and the replies' anomalies that matched no record (in the order they were read) of a run.
 */
export function readReportLists(ledger: Pool, runId: number, limit?: number): ReportLists {
  const run = Math.trunc(runId);
  const quarantine: ListSql = {
    from: `FROM maillon.record_outcomes WHERE run_id = ${run} AND outcome = 'quarantined'`,
    orderBy: `rule, source_key COLLATE "C"`,
    fields: [
      ['rule', 'rule'],
      ['sourceKey', 'source_key'],
      ['message', 'message'],
    ],
    csv: [`'quarantine'`, 'source_key', 'rule', 'message'],
    ...(limit === undefined ? {} : { limit }),
  };
  const recordIssues: ListSql = {
    from: `FROM (${recordIssuesSql(run)}) r`,
    orderBy: `source_key COLLATE "C"`,
    fields: [
      ['sourceKey', 'source_key'],
      ['file', 'name'],
      ['state', 'state'],
      ['codes', 'codes'],
    ],
    csv: [`'record'`, 'source_key', 'state', `name || ' ' || codes`],
    ...(limit === undefined ? {} : { limit }),
  };
  const unmatchedAnomalies: ListSql = {
    from: unmatchedAnomaliesFromSql(run),
    orderBy: 'anomaly_id',
    fields: [
      ['file', 'file'],
      ['reply', 'reply'],
      ['code', 'code'],
      ['blocking', 'blocking'],
      ['inss', 'inss'],
      ['attestationId', 'attestation_id'],
    ],
    csv: [`'unmatched-anomaly'`, 'file', 'code', UNMATCHED_DETAIL_SQL],
    ...(limit === undefined ? {} : { limit }),
  };
  return {
    quarantine: listItems<QuarantineEntry>(ledger, quarantine),
    recordIssues: listItems<RecordIssue>(ledger, recordIssues),
    unmatchedAnomalies: listItems<UnmatchedAnomaly>(ledger, unmatchedAnomalies),
    // Only whole lists: the CSV and JSON reports are complete, whatever a caller asks.
    ...(limit === undefined ? { text: { quarantine: listText(ledger, quarantine), recordIssues: listText(ledger, recordIssues), unmatchedAnomalies: listText(ledger, unmatchedAnomalies) } } : {}),
  };
}

/** The lists of a report already in memory, as the writers take them. */
export function listsOf(r: Report): ReportLists {
  const of = <T>(items: T[]): AsyncIterable<T> => ({
    [Symbol.asyncIterator]: () => {
      const it = items[Symbol.iterator]();
      return { next: () => Promise.resolve(it.next()) };
    },
  });
  return { quarantine: of(r.quarantine), recordIssues: of(r.delivery.recordIssues), unmatchedAnomalies: of(r.delivery.unmatchedAnomalyList) };
}
