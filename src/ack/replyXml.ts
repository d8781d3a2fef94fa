import { SaxesParser } from 'saxes';
import { AckError } from '../errors/errors.js';
import { maskPersonalData } from '../log/maskPersonalData.js';
import { libraryProblem, parserPosition } from './libraryProblem.js';

/** An acknowledgement of receipt for one data file: positive (formally valid) or negative (with error ids). */
export interface Acrf {
  kind: 'ACRF';
  fileName: string;
  accepted: boolean;
  errorIds: string[];
}

/** One anomaly of a notification, pointing at a record (by INSS, and attestation id when given). */
export interface Anomaly {
  /** 11 digits, or null when the anomaly names no person. */
  inss: string | null;
  /** 1 to 18 digits (it fits a bigint), or null. */
  attestationId: string | null;
  blocking: boolean;
  code: string;
  description: string;
}

/** The processing result of one data file, with its anomalies (the simulator writes it whole). */
export interface Noti {
  kind: 'NOTI';
  fileName: string;
  result: 'accepted' | 'accepted_with_anomalies' | 'rejected';
  anomalies: Anomaly[];
}

/** What a NOTI says besides its anomalies, which are handed over one by one as they are read. */
export interface NotiHeader {
  kind: 'NOTI';
  fileName: string;
  result: Noti['result'];
  /** How many anomalies were handed over. */
  anomalies: number;
}

/** An ACRF, or a NOTI whose anomalies went to the reader's callback. */
export type ReplyHeader = Acrf | NotiHeader;

/** What a reply is: its name's purpose, and its document's root. */
export type ReplyKind = ReplyHeader['kind'];

const INSS = /^\d{11}$/;
const ATTESTATION_ID = /^\d{1,18}$/;
// No reply has a text, tag, comment or CDATA section this long: refusing one bounds what the parser holds.
const MAX_RUN = 64 * 1024;
const SLICE = 16 * 1024;
const MAX_DEPTH = 32;
const MAX_ERROR_IDS = 1000;
const MAX_FIELD = 4000;
// C0 controls but TAB, LF and CR; DEL; C1 (XML 1.0 lets DEL and C1 through, XML 1.1 even C0 by reference).
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// An element name shown in a reason: letters only, so it never carries a person's number.
const SHOWN_NAME = /^[A-Za-z_-]{1,40}$/;
const ANOMALY = 'NOTI/Form/Anomalies/Anomaly';
const ANOMALY_FIELDS = new Set(['INSS', 'AttestationID', 'Class', 'Code', 'Description']);
const HEADER = new Set([
  'ACRF/Form/Identification',
  'ACRF/Form/FileReference/FileName',
  'ACRF/Form/ReceptionResult/ResultCode',
  'ACRF/Form/ReceptionResult/ErrorID',
  'NOTI/Form/Identification',
  'NOTI/Form/FileReference/FileName',
  'NOTI/Form/Result',
]);

/**
 * Reads an ACRF or NOTI as its bytes arrive, in bounded memory: UTF-8 checked, a strict XML
 * parser (saxes: no DTD, no entity but the five predefined), no control character but TAB, LF
 * and CR in any text, every value a string. A NOTI's anomalies go to `onAnomaly` one by one (await
 * what it returns), each checked first: INSS 11 digits, AttestationID at most 18 digits, Class B or
 * N. Anything else (not UTF-8, not well-formed, another layout, a field twice, over 64 KiB read
 * without the parser completing a text, tag or section) throws AckError naming `source`, never
 * repeating a value read; the caller then discards what the callback stored.
 */
export async function readReply(chunks: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, source: string, onAnomaly: (a: Anomaly) => Promise<void> | undefined): Promise<ReplyHeader> {
  const reader = createReader(source);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const feed = async (text: string): Promise<void> => {
    for (const a of reader.write(text)) await onAnomaly(a);
  };
  try {
    for await (const chunk of chunks) await feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    await feed(decoder.decode());
  } catch (err) {
    if (err instanceof AckError) throw err;
    if (err instanceof TypeError && /encoded data|decode/i.test(err.message)) throw new AckError(`The reply ${source} is not UTF-8 text; it was set aside.`, { cause: err });
    throw err;
  }
  return reader.end();
}

/** The whole reply from a string, anomalies collected (small replies and tests). */
export async function parseReply(text: string, source: string): Promise<Acrf | Noti> {
  const anomalies: Anomaly[] = [];
  const header = await readReply([text], source, (a) => void anomalies.push(a));
  return header.kind === 'ACRF' ? header : { kind: 'NOTI', fileName: header.fileName, result: header.result, anomalies };
}

interface Reader {
  /** Parses a piece of the document; returns the anomalies it completed. */
  write(text: string): Anomaly[];
  end(): ReplyHeader;
}

function createReader(source: string): Reader {
  const fail = (why: string): never => {
    throw new AckError(`The reply ${source} ${why}; it was set aside.`);
  };
  const parser = new SaxesParser();
  const tooLong = (): never => fail(`holds a text or tag of more than ${MAX_RUN} characters, which no reply does`);
  // Characters given to the parser, where the slice being parsed started, and the start of the
  // slice in which the parser last completed something: what it holds unfinished was read since.
  // (saxes reports its events while a slice is parsed and its own position is not an offset into
  // the document between writes: the slice is the unit.)
  let fed = 0;
  let sliceStart = 0;
  let completedAt = 0;
  const path: string[] = [];
  const fields = new Map<string, string>();
  const errorIds: string[] = [];
  let root: 'ACRF' | 'NOTI' = 'ACRF';
  let text = '';
  let anomaly: Map<string, string> | null = null;
  let count = 0;
  let completed: Anomaly[] = [];
  // saxes quotes the tag, attribute or name at fault, which may hold a person's number: only where and what kind.
  parser.on('error', (e) => {
    const at = parserPosition(e.message);
    fail(`is not well-formed XML (${at ? `${at}: ` : ''}${libraryProblem(e.message, 'a construct XML does not allow')})`);
  });
  parser.on('doctype', () => fail('contains a DTD or entity declaration, which replies never do, and was not read further'));
  parser.on('opentag', (tag) => {
    if (path.length === 0) {
      if (tag.name !== 'ACRF' && tag.name !== 'NOTI') fail(`starts with ${shown(tag.name)}: it is neither an ACRF nor a NOTI of the expected layout`);
      root = tag.name as 'ACRF' | 'NOTI';
    }
    if (path.length >= MAX_DEPTH) fail(`nests elements more than ${MAX_DEPTH} deep`);
    path.push(tag.name);
    text = '';
    completedAt = sliceStart;
    if (path.join('/') === ANOMALY) anomaly = new Map();
  });
  // Text is kept across comments until the element closes: bounded here, as a whole.
  const addText = (t: string): void => {
    completedAt = sliceStart;
    if (text.length + t.length > MAX_RUN) tooLong();
    const control = CONTROL.exec(t);
    if (control) fail(`holds the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} in ${shown(path.at(-1) ?? '')}, which replies never do`);
    text += t;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  // A finished comment or processing instruction was bounded while it was read: what follows starts afresh.
  const finished = (): void => {
    completedAt = sliceStart;
  };
  parser.on('comment', finished);
  parser.on('processinginstruction', finished);
  parser.on('xmldecl', finished);
  parser.on('closetag', () => {
    completedAt = sliceStart;
    const at = path.join('/');
    const value = text.trim();
    text = '';
    path.pop();
    if (anomaly && at === ANOMALY) {
      completed.push(toAnomaly(anomaly, ++count, fail));
      anomaly = null;
    } else if (anomaly && path.length === 4 && ANOMALY_FIELDS.has(at.slice(ANOMALY.length + 1))) {
      const field = at.slice(ANOMALY.length + 1);
      if (anomaly.has(field)) fail(`gives ${field} twice in anomaly ${count + 1}`);
      anomaly.set(field, value);
    } else if (at.endsWith('/ErrorID') && HEADER.has(at)) {
      if (errorIds.length >= MAX_ERROR_IDS) fail(`lists more than ${MAX_ERROR_IDS} error ids`);
      // An error id is shown in reports and traces: a person's number in it is masked here, once.
      errorIds.push(maskPersonalData(value).slice(0, 200));
    } else if (HEADER.has(at)) {
      if (fields.has(at)) fail(`gives ${at.split('/').pop()} twice`);
      fields.set(at, value);
    }
  });
  return {
    write(piece) {
      completed = [];
      // Small slices: a run of more than MAX_RUN unfinished is refused at most one slice later.
      for (let at = 0; at < piece.length; at += SLICE) {
        const part = piece.slice(at, at + SLICE);
        sliceStart = fed;
        parser.write(part);
        fed += part.length;
        if (fed - completedAt > MAX_RUN + SLICE) tooLong();
      }
      return completed;
    },
    end() {
      parser.close();
      return toHeader(root, fields, errorIds, count, fail);
    },
  };
}

function toAnomaly(raw: Map<string, string>, n: number, fail: (why: string) => never): Anomaly {
  const cls = raw.get('Class');
  if (cls !== 'B' && cls !== 'N') fail(`gives anomaly ${n} ${cls === undefined ? 'no class' : 'a class that is not B or N'}`);
  const code = raw.get('Code');
  if (!code || code.length > 64) fail(`gives anomaly ${n} ${code ? 'a code of more than 64 characters' : 'no code'}`);
  const inss = raw.get('INSS') ?? null;
  // No value of a reply is repeated in a reason: it may hold a person's number.
  if (inss !== null && !INSS.test(inss)) fail(`gives anomaly ${n} an INSS that is not 11 digits`);
  const attestationId = raw.get('AttestationID') ?? null;
  if (attestationId !== null && !ATTESTATION_ID.test(attestationId)) {
    fail(`gives anomaly ${n} an AttestationID of ${attestationId.length} characters that is not a number of at most 18 digits`);
  }
  const description = raw.get('Description') ?? '';
  if (description.length > MAX_FIELD) fail(`gives anomaly ${n} a description of more than ${MAX_FIELD} characters`);
  // A code is shown in reports and traces: a person's number in it is masked here, once.
  return { inss, attestationId, blocking: cls === 'B', code: maskPersonalData(code), description };
}

function toHeader(root: 'ACRF' | 'NOTI', fields: Map<string, string>, errorIds: string[], anomalies: number, fail: (why: string) => never): ReplyHeader {
  const get = (p: string): string | undefined => fields.get(`${root}/Form/${p}`);
  const fileName = get('FileReference/FileName');
  const missing = (what: string): never => fail(`is not an ${root} of the expected layout (${what})`);
  if (get('Identification') !== `${root}001`) missing(`Identification must be ${root}001`);
  if (!fileName || fileName.length > 200) missing('FileReference/FileName must name one file');
  if (root === 'ACRF') {
    const code = get('ReceptionResult/ResultCode');
    if (code !== '0' && code !== '1') missing('ReceptionResult/ResultCode must be 0 or 1');
    return { kind: 'ACRF', fileName: fileName!, accepted: code === '1', errorIds };
  }
  const result = get('Result');
  if (result !== '1' && result !== '2' && result !== '3') missing('Result must be 1, 2 or 3');
  return { kind: 'NOTI', fileName: fileName!, result: result === '1' ? 'accepted' : result === '2' ? 'accepted_with_anomalies' : 'rejected', anomalies };
}

/** An element's name for a reason: `<Name>` when it is letters only, else "an element" (a name may hold digits). */
function shown(name: string): string {
  return SHOWN_NAME.test(name) ? `<${name}>` : 'an element';
}
