import { describe, expect, it } from 'vitest';
import { companyCheckDigits, companyNumberProblem, parseCompanyNumber } from '../../src/domain/companyNumber.js';

describe('KBO/BCE company number', () => {
  it('accepts the domain.md vectors and refuses the invalid one', () => {
    expect(companyNumberProblem('0403019261')).toBeNull();
    expect(companyNumberProblem('0428759497')).toBeNull();
    expect(companyNumberProblem('0431150351')).toBe('check-digit');
  });
  it("parses an operator's number: a 9-digit one gets its leading 0 (domain.md §4), then the check; the CSV contract stays 10 digits", () => {
    expect(parseCompanyNumber('403019261')).toBe('0403019261');
    expect(parseCompanyNumber('0428759497')).toBe('0428759497');
    expect(() => parseCompanyNumber('431150351')).toThrow('0431150351 is not a KBO/BCE number: its check digits do not match');
    for (const bad of ['40301926', '04030192610', '0403 019 261', '']) expect(() => parseCompanyNumber(bad)).toThrow('must be a KBO/BCE number of 10 digits, or 9 without the leading 0');
    expect(companyNumberProblem('403019261')).toBe('format');
  });
  it('computes check digits that pass', () => {
    expect(companyCheckDigits('04030192')).toBe('61');
  });
});
