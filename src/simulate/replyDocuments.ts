import { create } from 'xmlbuilder2';
import type { Acrf, Noti } from '../ack/replyXml.js';

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

/** Renders a NOTI document. */
export function notiXml(n: Omit<Noti, 'kind'>, created: { date: string; hour: string }): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8' }).ele('NOTI').ele('Form');
  doc.ele('Identification').txt('NOTI001');
  doc.ele('FormCreationDate').txt(created.date);
  doc.ele('FormCreationHour').txt(created.hour);
  doc.ele('FileReference').ele('FileName').txt(n.fileName);
  doc.ele('Result').txt(n.result === 'accepted' ? '1' : n.result === 'accepted_with_anomalies' ? '2' : '3');
  const list = doc.ele('Anomalies');
  for (const a of n.anomalies) {
    const el = list.ele('Anomaly');
    if (a.inss) el.ele('INSS').txt(a.inss);
    if (a.attestationId) el.ele('AttestationID').txt(a.attestationId);
    el.ele('Class').txt(a.blocking ? 'B' : 'N');
    el.ele('Code').txt(a.code);
    el.ele('Description').txt(a.description);
  }
  return doc.end({ prettyPrint: true });
}
