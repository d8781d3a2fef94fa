import { create } from 'xmlbuilder2';
import type { Acrf, Noti } from '../ack/replyXml.js';
import { escapeXml } from '../render/xml.js';

/** Renders an ACRF document (small: xmlbuilder2). */
export function acrfXml(a: Omit<Acrf, 'kind'>, created: { date: string; hour: string }, referenceNbr: string): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8' }).ele('ACRF').ele('Form');
  doc.ele('Identification').txt('ACRF001');
  doc.ele('FormCreationDate').txt(created.date);
  doc.ele('FormCreationHour').txt(created.hour);
  const ref = doc.ele('FileReference');
  ref.ele('FileName').txt(a.fileName);
  ref.ele('ReferenceNbr').txt(referenceNbr);
  const result = doc.ele('ReceptionResult');
  result.ele('ResultCode').txt(a.accepted ? '1' : '0');
  for (const id of a.errorIds) result.ele('ErrorID').txt(id);
  return doc.end({ prettyPrint: true });
}

/**
 * Renders a NOTI document, laid out as xmlbuilder2's pretty print (two spaces an indent level).
 * Written from template strings, not a document tree: a NOTI of a national-scale file names
 * tens of thousands of anomalies, and a tree of five nodes each took about 100 MB.
 */
export function notiXml(n: Omit<Noti, 'kind'>, created: { date: string; hour: string }): string {
  const el = (indent: number, name: string, text: string): string => `${' '.repeat(indent)}<${name}>${escapeXml(text, name)}</${name}>\n`;
  const head =
    '<?xml version="1.0" encoding="UTF-8"?>\n<NOTI>\n  <Form>\n' +
    el(4, 'Identification', 'NOTI001') +
    el(4, 'FormCreationDate', created.date) +
    el(4, 'FormCreationHour', created.hour) +
    `    <FileReference>\n${el(6, 'FileName', n.fileName)}    </FileReference>\n` +
    el(4, 'Result', n.result === 'accepted' ? '1' : n.result === 'accepted_with_anomalies' ? '2' : '3');
  const tail = '  </Form>\n</NOTI>';
  if (n.anomalies.length === 0) return `${head}    <Anomalies/>\n${tail}`;
  const parts = [head, '    <Anomalies>\n'];
  for (const a of n.anomalies) {
    parts.push(
      '      <Anomaly>\n' +
        (a.inss ? el(8, 'INSS', a.inss) : '') +
        (a.attestationId ? el(8, 'AttestationID', a.attestationId) : '') +
        el(8, 'Class', a.blocking ? 'B' : 'N') +
        el(8, 'Code', a.code) +
        el(8, 'Description', a.description) +
        '      </Anomaly>\n',
    );
  }
  parts.push('    </Anomalies>\n', tail);
  return parts.join('');
}
