import { isLive } from './transitions.js';

// A correction or replacement built on a version its receiver rejected after it was written
// (src/ledger/rejectedBase.ts reads which): what the period view makes of it.

/**
 * The live submissions built on a version their receiver rejected after they were written (they
 * correct records it never accepted, and leave out those it thinks are held), unless something
 * live was written to that receiver since, built on what it really holds.
 */
export function builtOnRejected<T extends { id: number; receiver: string; state: string; rejectedBase?: readonly number[] }>(subs: readonly T[]): T[] {
  const stranded = (s: T): boolean => isLive(s.state) && (s.rejectedBase?.length ?? 0) > 0;
  return subs.filter((s) => stranded(s) && !subs.some((o) => o.receiver === s.receiver && o.id > s.id && isLive(o.state) && !stranded(o)));
}

/** A live submission that builds on a rejected version, what it means for its receiver and what to do (docs/state-rules.md). */
export function rejectedBaseProblem(receiver: string, s: { id: number; kind: string; state: string; goStarted: boolean; rejectedBase?: readonly number[] }, run: string, rerun: string): string {
  const base = (s.rejectedBase ?? []).map((id) => `#${id}`).join(', ');
  const what = `#${s.id} (${s.kind}, ${s.state}) builds on ${base}, which ${receiver} rejected after #${s.id} was written: it corrects records ${receiver} never accepted`;
  if (s.state === 'written' && !s.goStarted) {
    return `${what}, and maillon send does not send it. Withdraw it: maillon cancel ${s.id}; then (the data corrected, if the rejection asks for it) ${run} writes the period again.`;
  }
  const full = `${rerun} --full sends every record of the period again`;
  if (s.state === 'written' || s.state === 'sent') {
    return `${what}; the records of ${base} it does not carry are held by no receiver. Withdraw it: maillon cancel ${s.id} (while its GO waits), then ${run} writes the period again; if the receiver took it (cancel exits 8): ${full}.`;
  }
  return `${what}; the records of ${base} it does not carry are held by no receiver: ${full}.`;
}
