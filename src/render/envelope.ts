import type { Environment } from '../config/config.js';
import type { LocalDate } from '../period/localDate.js';
import { el, escapeXml } from './xml.js';

/** The BCSS namespace every XML flow uses. */
export const BCSS_NAMESPACE = 'http://www.ksz-bcss.fgov.be/XmlSchema';

/** What the file header states. */
export interface EnvelopeHeader {
  root: string;
  processType: string;
  version: string;
  sender: string;
  receiver: string;
  environment: Environment;
  periodCode: string;
  asOf: Date;
  creationDate: LocalDate;
  creationHour: string;
}

/** XML declaration, root element and FileHeader. */
export function envelopeStart(h: EnvelopeHeader): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<${h.root} xmlns="${BCSS_NAMESPACE}" processType="${escapeXml(h.processType)}" version="${escapeXml(h.version)}">\n` +
    `<FileHeader>${el('Sender', h.sender)}${el('Receiver', h.receiver)}${el('Environment', h.environment)}` +
    `${el('Period', h.periodCode)}${el('AsOf', h.asOf.toISOString())}${el('CreationDate', h.creationDate)}${el('CreationHour', h.creationHour)}</FileHeader>\n`
  );
}

/** FileTrailer with the record count, and the closing root tag. */
export function envelopeEnd(root: string, records: number): string {
  return `<FileTrailer>${el('RecordCount', records)}</FileTrailer>\n</${root}>\n`;
}
