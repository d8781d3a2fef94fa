import { describe, expect, it } from 'vitest';
import type { Cents } from '../../src/domain/cents.js';
import { type AllocatedMovement, toPaidState } from '../../src/domain/paidState.js';
import type { LocalDate } from '../../src/period/localDate.js';

/** toPaidState over plain values, as a flow's row schema types them. */
const paidState = (due: number, movements: [string, number][]) =>
  toPaidState(
    due as Cents,
    movements.map(([d, c]): AllocatedMovement => [d as LocalDate, c as Cents]),
  );

describe('toPaidState', () => {
  it('dates paid-in-full at the payment that reaches the due amount', () => {
    expect(
      paidState(1000, [
        ['2026-07-01', 400],
        ['2026-08-01', 600],
        ['2026-09-01', 50],
      ]),
    ).toEqual({ paid: 1050, paidInFull: true, paidInFullDate: '2026-08-01' });
  });
  it('is not paid in full below the due amount, and has no date', () => {
    expect(paidState(1000, [['2026-07-01', 999]])).toEqual({ paid: 999, paidInFull: false, paidInFullDate: null });
  });
  it('keeps the first date when a refund leaves the total at or above due', () => {
    expect(
      paidState(1000, [
        ['2026-07-01', 1500],
        ['2026-08-01', -500],
      ]),
    ).toEqual({ paid: 1000, paidInFull: true, paidInFullDate: '2026-07-01' });
  });
  it('takes the later payment when a refund fell below due and a payment reached it again', () => {
    expect(
      paidState(1000, [
        ['2026-07-01', 1000],
        ['2026-08-01', -300],
        ['2026-09-01', 300],
      ]),
    ).toEqual({ paid: 1000, paidInFull: true, paidInFullDate: '2026-09-01' });
  });
  it('nothing due: paid in full (paid ≥ due) but no payment date', () => {
    expect(paidState(0, [])).toEqual({ paid: 0, paidInFull: true, paidInFullDate: null });
  });
});
