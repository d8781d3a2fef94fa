import { describe, expect, it } from 'vitest';
import { isBlank } from '../../src/domain/blankText.js';

describe('isBlank', () => {
  it('is true for a text of whitespace only (spaces, tabs, line breaks, no-break and other Unicode spaces) and for the empty text', () => {
    for (const text of ['', ' ', '   ', '\t', '\r\n', '\u00a0', '\u2003\u3000', '\ufeff']) expect(isBlank(text)).toBe(true);
  });

  it('is false as soon as one other character is there, wherever it is', () => {
    for (const text of ['a', ' a', 'a ', '   .', '\u200b', '0']) expect(isBlank(text)).toBe(false);
  });
});
