import { describe, expect, it } from 'vitest';
import { type Anomaly, parseReply, readReply } from '../../src/ack/replyXml.js';
import { notiXml } from '../../src/simulate/replyDocuments.js';

const created = { date: '2026-10-10', hour: '04:00:00' };
const noti = (anomalies: string, decl = '<?xml version="1.0" encoding="UTF-8"?>'): string =>
  `${decl}<NOTI><Form><Identification>NOTI001</Identification><FileReference><FileName>F</FileName></FileReference><Result>2</Result><Anomalies>${anomalies}</Anomalies></Form></NOTI>`;

describe('readReply', () => {
  it('reads what the simulator writes, values as strings (leading zeros kept)', async () => {
    const anomalies: Anomaly[] = [
      { inss: '03051212332', attestationId: '000100000001', blocking: true, code: 'B0042', description: 'refused & <why>' },
      { inss: null, attestationId: null, blocking: false, code: 'N0007', description: '' },
    ];
    const xml = notiXml({ fileName: 'FI.CARR.012345.20261010.00001.T.1.1', result: 'accepted_with_anomalies', anomalies }, created);
    expect(await parseReply(xml, 'r')).toEqual({ kind: 'NOTI', fileName: 'FI.CARR.012345.20261010.00001.T.1.1', result: 'accepted_with_anomalies', anomalies });
  });

  it('hands the anomalies over as they are read, across any split of the bytes, even inside a multi-byte character', async () => {
    const anomalies = Array.from({ length: 50 }, (_, i) => ({ inss: '85073003328', attestationId: String(i + 1), blocking: false, code: 'N1', description: `Noël ${i} €` }));
    const bytes = Buffer.from(notiXml({ fileName: 'F', result: 'accepted', anomalies }, created), 'utf8');
    for (const size of [1, 7, 64, 4096]) {
      const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
      const seen: Anomaly[] = [];
      const header = await readReply(chunks, 'r', (a) => void seen.push(a));
      expect(header).toEqual({ kind: 'NOTI', fileName: 'F', result: 'accepted', anomalies: 50 });
      expect(seen).toEqual(anomalies);
    }
  });

  it.each([
    ['a DTD', '<!DOCTYPE x [<!ENTITY a "b">]><ACRF/>', /DTD or entity declaration/],
    ['an undefined entity', '<ACRF><Form>&x;</Form></ACRF>', /not well-formed XML \(.*undefined entity/],
    ['a NUL byte', '<ACRF><Form>\u0000</Form></ACRF>', /disallowed character/],
    ['another root', '<HTML/>', /starts with <HTML>: it is neither an ACRF nor a NOTI/],
    ['a missing result', '<ACRF><Form><Identification>ACRF001</Identification><FileReference><FileName>F</FileName></FileReference></Form></ACRF>', /ResultCode must be 0 or 1/],
    ['a field twice', '<NOTI><Form><Identification>NOTI001</Identification><Identification>NOTI001</Identification></Form></NOTI>', /gives Identification twice/],
    ['a bad class', '<NOTI><Form><Anomalies><Anomaly><Class>X</Class><Code>C</Code></Anomaly></Anomalies></Form></NOTI>', /anomaly 1 a class that is not B or N/],
    ['no code', '<NOTI><Form><Anomalies><Anomaly><Class>B</Class></Anomaly></Anomalies></Form></NOTI>', /anomaly 1 no code/],
    [
      'a negative AttestationID',
      '<NOTI><Form><Anomalies><Anomaly><AttestationID>-1</AttestationID><Class>B</Class><Code>C</Code></Anomaly></Anomalies></Form></NOTI>',
      /anomaly 1 an AttestationID of 2 characters that is not a number of at most 18 digits/,
    ],
    ['trailing content', '<ACRF/><ACRF/>', /only one root/],
    ['a truncated document', '<NOTI><Form>', /not well-formed XML \(.*unclosed tag/],
  ])('refuses %s with a sentence naming the reply', async (_what, xml, reason) => {
    await expect(parseReply(xml, 'FO.NOTI.999999.20261010.00001.T')).rejects.toThrow(reason);
    await expect(parseReply(xml, 'FO.NOTI.999999.20261010.00001.T')).rejects.toThrow(/^The reply FO\.NOTI\.999999\.20261010\.00001\.T /);
  });

  it('refuses bytes that are not UTF-8', async () => {
    await expect(readReply([Buffer.from([0x3c, 0x41, 0xff, 0x3e])], 'r', () => undefined)).rejects.toThrow(/is not UTF-8 text/);
  });

  it('refuses a text run longer than 64 KiB, even split across chunks', async () => {
    const pieces = ['<ACRF><Form>', 'x'.repeat(40_000), 'x'.repeat(40_000), '</Form></ACRF>'];
    await expect(readReply(pieces, 'r', () => undefined)).rejects.toThrow(/more than 65536 characters/);
  });

  it('reads a genuine NOTI longer than 64 KiB whose every text is far shorter, however its bytes are split', async () => {
    const anomalies = Array.from({ length: 17 }, (_, i) => ({ inss: null, attestationId: String(i + 1), blocking: false, code: 'N1', description: 'x'.repeat(3900) }));
    const text = notiXml({ fileName: 'F', result: 'accepted', anomalies }, created);
    for (const size of [text.length, 65_536, 4096]) {
      const pieces = Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
      const seen: Anomaly[] = [];
      expect(await readReply(pieces, 'r', (a) => void seen.push(a))).toEqual({ kind: 'NOTI', fileName: 'F', result: 'accepted', anomalies: 17 });
      expect(seen).toEqual(anomalies);
    }
  });

  it.each([
    ['a text holding ">"', '<Junk>', 'x'.repeat(1023) + '>', '</Junk>'],
    ['an attribute holding ">"', '<Junk a="', 'x'.repeat(1023) + '>', '"/>'],
    ['a text broken by comments', '<Junk>', 'x'.repeat(1016) + '<!---->', '</Junk>'],
    ['a comment holding "<"', '<!--', 'x'.repeat(1023) + '<', '-->'],
    ['a CDATA section holding "<"', '<Junk><![CDATA[', 'x'.repeat(1023) + '<', ']]></Junk>'],
  ])('refuses %s of 16 MiB after reading at most 192 KiB of it', async (_what, open, unit, close) => {
    let read = 0;
    function* chunks(): Generator<Buffer> {
      for (const piece of [noti(open).replace('</Anomalies></Form></NOTI>', ''), ...Array<string>(256).fill(unit.repeat(64)), `${close}</Anomalies></Form></NOTI>`]) {
        read += piece.length;
        yield Buffer.from(piece);
      }
    }
    await expect(readReply(chunks(), 'r', () => undefined)).rejects.toThrow(/^The reply r holds a text or tag of more than 65536 characters, which no reply does; it was set aside\.$/);
    expect(read).toBeLessThan(192 * 1024);
  });

  it.each([
    ['a Class', '<Anomaly><INSS>85073003328</INSS><Class>85073003328</Class><Code>C</Code></Anomaly>', /gives anomaly 1 a class that is not B or N;/],
    ['an AttestationID', '<Anomaly><AttestationID>85073003328-1</AttestationID><Class>N</Class><Code>C</Code></Anomaly>', /gives anomaly 1 an AttestationID of 13 characters that is not/],
  ])('never repeats a number given in %s in the reason it sets the reply aside for', async (_where, anomaly, reason) => {
    const err = await parseReply(noti(anomaly), 'FO.NOTI.999999.20261010.00001.T').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(reason);
    expect((err as Error).message).not.toContain('85073003328');
  });

  it('never repeats a number given as the root element', async () => {
    await expect(parseReply('<x85073003328/>', 'r')).rejects.toThrow(/^The reply r starts with an element: it is neither an ACRF nor a NOTI of the expected layout; it was set aside\.$/);
  });

  it.each([
    ['an escape by reference in XML 1.1', noti('<Anomaly><Class>N</Class><Code>E&#x1b;[2J</Code></Anomaly>', '<?xml version="1.1" encoding="UTF-8"?>'), /control character U\+001B in <Code>/],
    ['a raw C1 character', noti('<Anomaly><Class>N</Class><Code>C</Code><Description>a\u009b31m</Description></Anomaly>'), /control character U\+009B in <Description>/],
    ['a DEL in a CDATA section', noti('<Anomaly><Class>N</Class><Code><![CDATA[C\u007f]]></Code></Anomaly>'), /control character U\+007F in <Code>/],
    [
      'a C1 character in an ErrorID',
      '<ACRF><Form><Identification>ACRF001</Identification><FileReference><FileName>F</FileName></FileReference><ReceptionResult><ResultCode>0</ResultCode><ErrorID>E\u0085</ErrorID></ReceptionResult></Form></ACRF>',
      /control character U\+0085 in <ErrorID>/,
    ],
  ])('refuses %s, naming the element', async (_what, xml, reason) => {
    await expect(parseReply(xml, 'r')).rejects.toThrow(reason);
    await expect(parseReply(xml, 'r')).rejects.toThrow(/^The reply r holds the control character U\+[0-9A-F]{4} in <\w+>, which replies never do; it was set aside\.$/);
  });
});
