import { describe, expect, it } from 'vitest';
import { companyCheckDigits, companyNumberProblem } from '../../src/domain/companyNumber.js';

describe('KBO/BCE company number', () => {
  it('accepts the domain.md vectors and refuses the invalid one', () => {
    expect(companyNumberProblem('0403019261')).toBeNull();
    expect(companyNumberProblem('0428759497')).toBeNull();
    expect(companyNumberProblem('0431150351')).toBe('check-digit');
    expect(companyNumberProblem('403019261')).toBe('format');
  });
  it('computes check digits that pass', () => {
    expect(companyCheckDigits('04030192')).toBe('61');
  });
});
