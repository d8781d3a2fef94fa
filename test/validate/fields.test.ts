import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { centsField, inssField, localDateField } from '../../src/validate/fields.js';
import { validateRow } from '../../src/validate/validateRow.js';

const row = z.object({ inss: inssField, day: localDateField, amount: centsField });

describe('branded row fields', () => {
  it('parse a good row into Inss, LocalDate and Cents', () => {
    expect(validateRow({ inss: '85073003328', day: '2024-02-29', amount: -120 }, row, [])).toEqual({
      ok: true,
      row: { inss: '85073003328', day: '2024-02-29', amount: -120 },
    });
  });
  it('quarantine a wrong INSS under the shared rule inss-check-digit, with its masked message', () => {
    expect(validateRow({ inss: '80022920241', day: '2024-02-29', amount: 1 }, row, [])).toEqual({
      ok: false,
      violation: { rule: 'inss-check-digit', message: expect.stringMatching(/^the check digits of INSS 80\*+41 do not match/) },
    });
    expect(validateRow({ inss: '123', day: '2024-02-29', amount: 1 }, row, [])).toMatchObject({ violation: { rule: 'inss-check-digit' } });
  });
  it('fail the shape on a day that does not exist or a fraction of a cent', () => {
    expect(validateRow({ inss: '85073003328', day: '2025-02-29', amount: 1 }, row, [])).toMatchObject({ violation: { rule: 'record-shape', message: expect.stringMatching(/^field day: /) } });
    expect(validateRow({ inss: '85073003328', day: '2025-02-28', amount: 1.5 }, row, [])).toMatchObject({ violation: { rule: 'record-shape', message: expect.stringMatching(/^field amount: /) } });
  });
});
