import type { PeriodView } from './periodState.js';

/**
 * The view, told about cancels that did not finish: a live submission whose cancel started writing
 * its TD file (killed before it recorded the cancel) may be dropped by its receiver at any moment,
 * and `send` never sends it. The period needs an operator: `maillon cancel` completes it. Applied
 * to every view read from the ledger (periodView.ts), after derivePeriod.
 */
export function withInterruptedCancels(view: PeriodView): PeriodView {
  const interrupted = view.live.filter((s) => s.cancelStarted && (s.state === 'written' || s.state === 'sent'));
  if (interrupted.length === 0) return view;
  const said = interrupted.map(
    (s) =>
      `The cancel of #${s.id} (to ${s.receiver}) was interrupted after it started writing its TD file: the receiver may be dropping it, and maillon will not send it. Complete the cancel: maillon cancel ${s.id}.`,
  );
  return { ...view, phase: 'needs_attention', action: [...said, ...(view.action ? [view.action] : [])].join(' ') };
}
