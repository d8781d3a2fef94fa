import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { AckError } from '../errors/errors.js';

/** An acknowledgement of receipt for one data file: positive (formally valid) or negative (with error ids). */
export interface Acrf {
  kind: 'ACRF';
  fileName: string;
  accepted: boolean;
  errorIds: string[];
}

/** One anomaly of a notification, pointing at a record (by INSS, and attestation id when given). */
export interface Anomaly {
  inss: string | null;
  attestationId: string | null;
  blocking: boolean;
  code: string;
  description: string;
}

/** The processing result of one data file. */
export interface Noti {
  kind: 'NOTI';
  fileName: string;
  result: 'accepted' | 'accepted_with_anomalies' | 'rejected';
  anomalies: Anomaly[];
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

// Values stay strings (INSS keep their leading zeros), no entity is ever expanded, no DTD accepted.
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  maxNestedTags: 32,
});

const acrfSchema = z.object({
  ACRF: z.object({
    Form: z.object({
      Identification: z.literal('ACRF001'),
      FileReference: z.object({ FileName: z.string().min(1) }),
      ReceptionResult: z.object({ ResultCode: z.enum(['0', '1']), ErrorID: z.union([z.string(), z.array(z.string())]).optional() }),
    }),
  }),
});

const anomalySchema = z.object({
  INSS: z.string().optional(),
  AttestationID: z.string().optional(),
  Class: z.enum(['B', 'N']),
  Code: z.string(),
  Description: z.string().optional(),
});

const notiSchema = z.object({
  NOTI: z.object({
    Form: z.object({
      Identification: z.literal('NOTI001'),
      FileReference: z.object({ FileName: z.string().min(1) }),
      Result: z.enum(['1', '2', '3']),
      Anomalies: z.union([z.literal(''), z.object({ Anomaly: z.union([anomalySchema, z.array(anomalySchema)]) })]).optional(),
    }),
  }),
});

/**
 * Parses an ACRF or NOTI reply. Refuses a DOCTYPE or ENTITY declaration outright (XML bombs,
 * external entities), and any document that does not have the expected layout.
 */
export function parseReply(text: string, source: string): Acrf | Noti {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new AckError(`The reply ${source} contains a DTD or entity declaration; replies never do. It was set aside unread.`);
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    throw new AckError(`The reply ${source} is not well-formed XML: ${(err as Error).message}`, { cause: err });
  }
  const acrf = acrfSchema.safeParse(doc);
  if (acrf.success) {
    const f = acrf.data.ACRF.Form;
    return { kind: 'ACRF', fileName: f.FileReference.FileName, accepted: f.ReceptionResult.ResultCode === '1', errorIds: asArray(f.ReceptionResult.ErrorID) };
  }
  const noti = notiSchema.safeParse(doc);
  if (noti.success) {
    const f = noti.data.NOTI.Form;
    const anomalies = f.Anomalies && typeof f.Anomalies === 'object' ? asArray(f.Anomalies.Anomaly) : [];
    return {
      kind: 'NOTI',
      fileName: f.FileReference.FileName,
      result: f.Result === '1' ? 'accepted' : f.Result === '2' ? 'accepted_with_anomalies' : 'rejected',
      anomalies: anomalies.map((a) => ({
        inss: a.INSS ?? null, attestationId: a.AttestationID ?? null, blocking: a.Class === 'B', code: a.Code, description: a.Description ?? '',
      })),
    };
  }
  throw new AckError(`The reply ${source} is neither an ACRF nor a NOTI of the expected layout.`);
}
