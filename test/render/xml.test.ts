import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { RecordContentError } from '../../src/errors/errors.js';
import { codePoints, el, escapeHtml, escapeXml, optionalEl, withElementChecks } from '../../src/render/xml.js';

const parser = new XMLParser({ parseTagValue: false, trimValues: false, htmlEntities: true });

describe('escapeXml', () => {
  it('escapes the five XML special characters', () => {
    expect(escapeXml(`Dumont & Fils <Jr> "Nono" l'aîné`)).toBe('Dumont &amp; Fils &lt;Jr&gt; &quot;Nono&quot; l&apos;aîné');
  });

  it('writes tab, line feed and carriage return as character references: one line, and a parser reads the same text back', () => {
    const street = 'Rue de la Loi 16\r\nboîte 3\tétage 2\r]]>';
    const escaped = escapeXml(street);
    expect(escaped).toBe('Rue de la Loi 16&#13;&#10;boîte 3&#9;étage 2&#13;]]&gt;');
    expect(escaped).not.toMatch(/[\r\n\t]/);
    expect(parser.parse(`<a><b>${escaped}</b></a>`).a.b).toBe(street);
  });

  it('keeps accents and astral characters; refuses, naming the element and the character, what XML 1.0 cannot carry', () => {
    expect(escapeXml('Nguyễn 😀')).toBe('Nguyễn 😀');
    for (const [text, code] of [
      ['a\u0000b', '0000'],
      ['ab\u001Fc', '001F'],
      ['\uFFFEd', 'FFFE'],
      ['e\uD800', 'D800'],
      ['😀\uDC00', 'DC00'],
    ] as const) {
      const err = (() => {
        try {
          return el('LastName', text);
        } catch (e) {
          return e;
        }
      })();
      expect(err, text).toBeInstanceOf(RecordContentError);
      expect((err as RecordContentError).rule).toBe('text-forbidden-character');
      expect((err as Error).message).toContain(`LastName holds U+${code}`);
    }
  });

  it('escapes HTML pages as before: what HTML cannot carry is dropped, line breaks stay', () => {
    expect(escapeHtml('a\u0000b\u001Fc\uFFFEd\uD800e & <f>')).toBe('abcde &amp; &lt;f&gt;');
    expect(escapeHtml('tab\tand\nnewline')).toBe('tab\tand\nnewline');
  });

  it('builds elements and leaves out absent optional ones', () => {
    expect(el('Name', 'A&B')).toBe('<Name>A&amp;B</Name>');
    expect(el('Flag', false)).toBe('<Flag>false</Flag>');
    expect(optionalEl('Date', null)).toBe('');
  });

  it('checks every element while the engine renders a record, and only then', () => {
    const seen: [string, unknown][] = [];
    const out = withElementChecks(
      (name, value) => void seen.push([name, value]),
      () => el('A', 'x') + optionalEl('B', 2) + optionalEl('C', null),
    );
    expect(out).toBe('<A>x</A><B>2</B>');
    expect(seen).toEqual([
      ['A', 'x'],
      ['B', 2],
    ]);
    el('D', 'outside');
    expect(seen).toHaveLength(2);
    // A check that throws leaves no check behind.
    expect(() =>
      withElementChecks(
        () => {
          throw new Error('no');
        },
        () => el('E', 'y'),
      ),
    ).toThrow('no');
    expect(el('E', 'y')).toBe('<E>y</E>');
  });

  it('counts characters as XML Schema does: code points, not UTF-16 units', () => {
    expect(codePoints('abc')).toBe(3);
    expect(codePoints('😀😀x')).toBe(3);
    expect(codePoints('\uD800x')).toBe(2);
  });
});
