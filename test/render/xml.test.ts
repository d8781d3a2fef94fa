import { describe, expect, it } from 'vitest';
import { el, escapeXml, optionalEl } from '../../src/render/xml.js';

describe('escapeXml', () => {
  it('escapes the five XML special characters', () => {
    expect(escapeXml(`Dumont & Fils <Jr> "Nono" l'aîné`)).toBe('Dumont &amp; Fils &lt;Jr&gt; &quot;Nono&quot; l&apos;aîné');
  });
  it('keeps accents and astral characters, drops what XML 1.0 cannot carry', () => {
    expect(escapeXml('Nguyễn 😀')).toBe('Nguyễn 😀');
    expect(escapeXml('a\u0000b\u001Fc\uFFFEd\uD800e')).toBe('abcde');
    expect(escapeXml('tab\tand\nnewline')).toBe('tab\tand\nnewline');
  });
  it('builds elements and leaves out absent optional ones', () => {
    expect(el('Name', 'A&B')).toBe('<Name>A&amp;B</Name>');
    expect(el('Flag', false)).toBe('<Flag>false</Flag>');
    expect(optionalEl('Date', null)).toBe('');
  });
});
