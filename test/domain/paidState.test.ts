import { describe, expect, it } from 'vitest';
import { toPaidState } from '../../src/domain/paidState.js';

describe('toPaidState', () => {
  it('dates paid-in-full at the payment that reaches the due amount', () => {
    expect(toPaidState(1000, [['2026-07-01', 400], ['2026-08-01', 600], ['2026-09-01', 50]])).toEqual({ paid: 1050, paidInFull: true, paidInFullDate: '2026-08-01' });
  });
  it('is not paid in full below the due amount, and has no date', () => {
    expect(toPaidState(1000, [['2026-07-01', 999]])).toEqual({ paid: 999, paidInFull: false, paidInFullDate: null });
  });
  it('keeps the first date when a refund leaves the total at or above due', () => {
    expect(toPaidState(1000, [['2026-07-01', 1500], ['2026-08-01', -500]])).toEqual({ paid: 1000, paidInFull: true, paidInFullDate: '2026-07-01' });
  });
  it('takes the later payment when a refund fell below due and a payment reached it again', () => {
    expect(toPaidState(1000, [['2026-07-01', 1000], ['2026-08-01', -300], ['2026-09-01', 300]])).toEqual({ paid: 1000, paidInFull: true, paidInFullDate: '2026-09-01' });
  });
  it('nothing due: paid in full (paid ≥ due) but no payment date', () => {
    expect(toPaidState(0, [])).toEqual({ paid: 0, paidInFull: true, paidInFullDate: null });
  });
});
