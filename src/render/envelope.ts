import type { Environment } from '../domain/environment.js';
import type { FundIdentity } from '../domain/fundIdentity.js';
import type { LocalDate } from '../period/localDate.js';
import type { Period } from '../period/period.js';
import { el, escapeXml } from './xml.js';

/** The BCSS namespace every BCSS-style XML flow uses. */
export const BCSS_NAMESPACE = 'http://www.ksz-bcss.fgov.be/XmlSchema';

// Kept for the modules that still import it from here; the type lives in src/domain.
export type { FundIdentity } from '../domain/fundIdentity.js';

/** What a file's envelope may state: who sends it to whom, for which period, when. */
export interface FileContext {
  fund: FundIdentity;
  sender: string;
  receiver: string;
  environment: Environment;
  period: Period;
  periodCode: string;
  asOf: Date;
  creationDate: LocalDate;
  creationHour: string;
  /** 0 for the first sending of the period; n for its nth correction (a rerun). */
  version: number;
}

/**
 * The start and end of an XML file around its records, with control totals accumulated
 * record by record (T is the accumulator; the engine never looks inside it).
 */
export interface XmlEnvelope<Rec, T = unknown> {
  start(f: FileContext): string;
  totals(): T;
  add(totals: T, rec: Rec, position: number): void;
  end(f: FileContext, records: number, totals: T): string;
}

/**
 * The BCSS envelope: root element = flow code with processType and version, a FileHeader,
 * the records, a FileTrailer with the record count and the sums named in `sums` (cents).
 */
export function bcssEnvelope<Rec>(root: string, processType: string, version: string, sums: Readonly<Record<string, (rec: Rec) => number>> = {}): XmlEnvelope<Rec, Record<string, number>> {
  const names = Object.keys(sums);
  return {
    start: (f) =>
      `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<${root} xmlns="${BCSS_NAMESPACE}" processType="${escapeXml(processType)}" version="${escapeXml(version)}">\n` +
      `<FileHeader>${el('Sender', f.sender)}${el('Receiver', f.receiver)}${el('Environment', f.environment)}` +
      `${el('Period', f.periodCode)}${el('AsOf', f.asOf.toISOString())}${el('CreationDate', f.creationDate)}${el('CreationHour', f.creationHour)}</FileHeader>\n`,
    totals: () => Object.fromEntries(names.map((n) => [n, 0])),
    add(totals, rec) {
      for (const n of names) totals[n]! += sums[n]!(rec);
    },
    end: (_f, records, totals) => `<FileTrailer>${el('RecordCount', records)}${names.map((n) => el(n, totals[n]!)).join('')}</FileTrailer>\n</${root}>\n`,
  };
}
