import { describe, expect, it } from 'vitest';
import { inssCheckDigits, inssProblem, isValidInss, maskInss, parseInss } from '../../src/domain/inss.js';

describe('INSS', () => {
  it('accepts the domain.md vectors for births before and from 2000', () => {
    expect(isValidInss('85073003328')).toBe(true);
    expect(isValidInss('17073003384')).toBe(true);
  });
  it('refuses a wrong check digit and a wrong shape', () => {
    expect(inssProblem('12345678901')).toBe('check-digit');
    expect(inssProblem('85073003329')).toBe('check-digit');
    expect(inssProblem('8507300332')).toBe('format');
    expect(inssProblem('8507300332a')).toBe('format');
  });
  it('accepts BIS numbers (month + 20 or + 40) built with the same check', () => {
    const bis = `784518234${inssCheckDigits('784518234', false)}`;
    expect(bis).toBe('78451823415');
    expect(isValidInss(bis)).toBe(true);
    const unknownSex = `852730033${inssCheckDigits('852730033', false)}`;
    expect(isValidInss(unknownSex)).toBe(true);
  });
  it('uses the 2000+ rule only with the leading 2', () => {
    expect(inssCheckDigits('170730033', true)).toBe('84');
    expect(inssCheckDigits('170730033', false)).not.toBe('84');
  });
  it('masks all but two digits at each end, and parse refuses without leaking the number', () => {
    expect(maskInss('85073003328')).toBe('85*******28');
    expect(() => parseInss('85073003329')).toThrow('85*******29');
  });
});
