import type { RecordStates } from './delivery.js';
import { type LineageCounts, lineageRows } from './lineageChecks.js';
import type { ReportCheck } from './report.js';

/** A run's counters as the report shows them. */
export interface RunCounts {
  extracted: number;
  emitted: number;
  quarantined: number;
}

/** extracted = emitted + quarantined; in a rerun, extracted + cancelled = emitted + quarantined + unchanged. */
export function versionCheck(c: RunCounts, unchanged: number, cancelled: number): ReportCheck {
  if (unchanged === 0 && cancelled === 0) return check('extracted = emitted + quarantined', c.extracted === c.emitted + c.quarantined, `${c.extracted} = ${c.emitted} + ${c.quarantined}`);
  return check(
    'extracted + cancelled = emitted + quarantined + unchanged',
    c.extracted + cancelled === c.emitted + c.quarantined + unchanged,
    `${c.extracted} + ${cancelled} = ${c.emitted} + ${c.quarantined} + ${unchanged}`,
  );
}

/** The reported run's lineage holds one row per extracted or cancelled record. */
export function lineageRowsCheck(tally: LineageCounts, c: RunCounts, cancelled: number): ReportCheck {
  const outcome = (o: string): number => tally.outcomes.get(o) ?? 0;
  return check(
    'lineage holds one row per record',
    lineageRows(tally) === c.extracted + cancelled,
    `${outcome('emitted')} emitted + ${outcome('quarantined')} quarantined + ${outcome('unchanged')} unchanged in the lineage`,
  );
}

/** Every record the reported run emitted has a final state (accepted, rejected, pending, cancelled…). */
export function finalStatesCheck(d: RecordStates, c: RunCounts): ReportCheck {
  const finalStates = d.accepted + d.acceptedWithAnomalies + d.rejected + d.pending + d.cancelled + d.answeredAfterCancel + d.acceptedAfterReject;
  return check(
    'every emitted record has a final state',
    finalStates === c.emitted,
    `${d.accepted} accepted, ${d.acceptedWithAnomalies} with anomalies, ${d.rejected} rejected, ${d.pending} pending${d.cancelled ? `, ${d.cancelled} cancelled` : ''}${d.answeredAfterCancel ? `, ${d.answeredAfterCancel} answered after cancel` : ''}${d.acceptedAfterReject ? `, ${d.acceptedAfterReject} accepted after reject` : ''}`,
  );
}

/** The reported run's files hold its emitted records, each file as many as its lineage says. */
export function oneFileCheck(files: readonly { records: number; file_key: string }[], tally: LineageCounts, c: RunCounts): ReportCheck {
  const fileRecords = files.reduce((n, f) => n + f.records, 0);
  const lineageOf = (fileKey: string): number => tally.byFile.get(fileKey) ?? 0;
  return check(
    'every emitted record is in exactly one file',
    fileRecords === c.emitted && files.every((f) => lineageOf(f.file_key) === f.records),
    `${fileRecords} records in ${files.length} file(s)`,
  );
}

function check(name: string, ok: boolean, detail: string): ReportCheck {
  return { name, ok, detail };
}
