import type { LocalDate } from '../period/localDate.js';
import { addCents, type Cents, ZERO_CENTS } from './cents.js';

/** A payment (+) or refund (−) allocated to a quarter's contributions: value date and signed cents. */
export type AllocatedMovement = readonly [valueDate: LocalDate, cents: Cents];

/** How much of a quarter's due amount is paid, per the shared definitions of flows.md. */
export interface PaidState {
  paid: Cents;
  /** paid ≥ due. */
  paidInFull: boolean;
  /** Value date of the payment that reached the due amount; null when not paid in full or nothing was due. */
  paidInFullDate: LocalDate | null;
}

/**
 * Computes paid, paid-in-full and its date from movements sorted by value date (the caller
 * has already left out those after the as-of day). When a refund takes the total below the
 * due amount and a later payment reaches it again, the later payment's date counts.
 */
export function toPaidState(due: Cents, movements: readonly AllocatedMovement[]): PaidState {
  let paid = ZERO_CENTS;
  let reachedOn: LocalDate | null = null;
  for (const [date, cents] of movements) {
    const before = paid;
    paid = addCents(paid, cents);
    if (due > 0 && before < due && paid >= due) reachedOn = date;
    if (paid < due) reachedOn = null;
  }
  const paidInFull = paid >= due;
  return { paid, paidInFull, paidInFullDate: paidInFull ? reachedOn : null };
}
