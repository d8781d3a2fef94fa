import { describe, expect, it } from 'vitest';
import { quoteText } from '../../src/import/quoteText.js';

describe('quoteText', () => {
  it('quotes short text as it is', () => {
    expect(quoteText('2024-1-5')).toBe('"2024-1-5"');
    expect(quoteText('Élodie 👩‍⚕️')).toBe('"Élodie 👩‍⚕️"');
  });

  it('escapes terminal escape sequences, NUL bytes and line breaks', () => {
    expect(quoteText('id\x1b[2J\x1b]0;pwned\x07')).toBe('"id\\x1b[2J\\x1b]0;pwned\\x07"');
    expect(quoteText('a\x00f\x00\r\nb\u009b2J\u2028')).toBe('"a\\x00f\\x00\\x0d\\x0ab\\x9b2J\\u2028"');
    expect(quoteText('\x1b'.repeat(1000))).toBe(`"${'\\x1b'.repeat(37)}..."`);
  });

  it('cuts text longer than its limit after whole characters', () => {
    expect(quoteText('x'.repeat(40))).toBe(`"${'x'.repeat(40)}"`);
    expect(quoteText('x'.repeat(41))).toBe(`"${'x'.repeat(37)}..."`);
    expect(quoteText('😀'.repeat(10), 10)).toBe(`"${'😀'.repeat(10)}"`);
    expect(quoteText('😀'.repeat(11), 10)).toBe(`"${'😀'.repeat(7)}..."`);
    expect(quoteText('a'.repeat(10_000_000), 200)).toBe(`"${'a'.repeat(197)}..."`);
  });
});
