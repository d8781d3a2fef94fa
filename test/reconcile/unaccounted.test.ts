import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/reconcile/report.js';
import { unaccounted } from '../../src/reconcile/unaccounted.js';

/** The facts unaccounted() reads; the rest of a report does not matter to it. */
const report = (facts: Partial<Report>): Report =>
  ({ checks: [], answeredAfterCancelRecords: 0, acceptedAfterRejectRecords: 0, builtOnRejected: [], lateRecords: null, pendingRecords: 0, ...facts }) as Report;

describe('unaccounted: why not every record is accounted for', () => {
  it('names each submission a receiver may hold under its own reason, with its own count, when both kinds are there', () => {
    const why = unaccounted(report({ answeredAfterCancelRecords: 3, acceptedAfterRejectRecords: 2 }), [
      { id: 4, receiver: 'OA100', state: 'cancelled' },
      { id: 7, receiver: 'OA200', state: 'rejected' },
    ]);
    expect(why).toBe(
      '3 record(s) of #4 to OA100 may be held by the receiver: it answered after the cancel (it took the GO before the TD), so "cancelled" may not be true. ' +
        'The receiver rejected #7 to OA200, then accepted it in a later reply, so "rejected" may not be true: it may hold those 2 record(s). ' +
        'Not every record is accounted for until the receiver says whether it holds them (see the receivers).',
    );
  });

  it('says only what is true when one kind is there', () => {
    expect(unaccounted(report({ acceptedAfterRejectRecords: 5 }), [{ id: 7, receiver: 'R', state: 'rejected' }])).toBe(
      'The receiver rejected #7 to R, then accepted it in a later reply, so "rejected" may not be true: it may hold those 5 record(s). ' +
        'Not every record is accounted for until the receiver says whether it holds them (see the receivers).',
    );
    expect(unaccounted(report({ answeredAfterCancelRecords: 1 }), [{ id: 4, receiver: 'R', state: 'cancelled' }])).toMatch(/^1 record\(s\) of #4 to R may be held/);
    expect(unaccounted(report({}), [])).toBeNull();
    expect(unaccounted(report({ pendingRecords: 2 }), [])).toBe("2 record(s) still wait for the receivers' final answer: not every record is accounted for yet.");
  });
});
