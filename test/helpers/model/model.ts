/**
 * The independent model of the period test: what the ledger should say, derived from the rules of
 * docs/state-rules.md and the reply rules, without reading maillon's own derivations.
 */
export type MState = 'written' | 'sent' | 'received' | 'accepted' | 'accepted_with_anomalies' | 'rejected' | 'cancelled';

/** One submission as the model expects it. */
export interface MSub {
  id: number;
  period: string;
  kind: string;
  state: MState;
  /** Its GO was started (and, at the kill points the test uses, written). */
  goStarted: boolean;
  /** The receiver took its files out of IN. */
  taken: boolean;
  /** Its single data file (career: one part). */
  fi: string;
  ack: 'received' | 'rejected' | null;
  noti: 'accepted' | 'accepted_with_anomalies' | 'rejected' | null;
  /** Cancelled after its GO was started, then answered: the receiver took the GO before the TD. */
  answeredAfterCancel?: boolean;
  /** The live submissions of its period when it was written: what it builds on. */
  base: number[];
  /** The highest submission id when that first answer was read: what was written up to it decides nothing. */
  answeredLastId?: number;
  /** Rejected, then accepted by a later genuine reply (a positive ACRF or NOTI after a negative one): the receiver may hold it. */
  acceptedAfterReject?: boolean;
}

/** How a reply put on the server is made. */
export type ReplyVariant = 'genuine' | 'named-S' | 'named-R' | 'unknown-file' | 'zip-dotdot' | 'attestation-abc' | 'attestation-huge' | 'nul-byte' | 'directory';

/** A reply waiting in OUTTEST, not read yet. */
export interface MReply {
  name: string;
  subId: number | null;
  kind: 'ACRF' | 'NOTI';
  says: 'received' | 'rejected' | 'accepted' | 'accepted_with_anomalies';
  variant: ReplyVariant;
}

export interface Model {
  subs: MSub[];
  pending: MReply[];
  /** Submissions seen in a final state, with that state: never left. */
  final: Map<number, MState>;
  /** Submission × state pairs already counted in the coverage. */
  seen: Set<string>;
}

export const PERIODS = ['2026-Q1', '2026-Q2', '2026-Q3'] as const;
export const LIVE: readonly MState[] = ['written', 'sent', 'received', 'accepted', 'accepted_with_anomalies'];
export const FINAL: readonly MState[] = ['accepted', 'accepted_with_anomalies', 'rejected', 'cancelled'];

export const emptyModel = (): Model => ({ subs: [], pending: [], final: new Map(), seen: new Set() });
export const liveIn = (m: Model, period: string): MSub[] => m.subs.filter((s) => s.period === period && LIVE.includes(s.state));
/**
 * The submissions of a period its (single) receiver may hold: cancelled and answered after the
 * cancel, or rejected and accepted by a later reply; nothing written to it once that answer was read (a run or rerun then is the operator's word that
 * it holds none; one written between the cancel and the answer, by serve or backfill, is not).
 */
export const mayHoldIn = (m: Model, period: string): MSub[] =>
  m.subs.filter(
    (s) =>
      s.period === period &&
      ((s.state === 'cancelled' && s.answeredAfterCancel) || (s.state === 'rejected' && s.acceptedAfterReject)) &&
      !m.subs.some((o) => o.period === period && o.id > Math.max(s.id, s.answeredLastId ?? s.id)),
  );

/** What a submission builds on that the receiver rejected since it was written. */
export const rejectedBaseOf = (m: Model, s: MSub): number[] => s.base.filter((id) => m.subs.find((b) => b.id === id)?.state === 'rejected');

/**
 * The live submissions of a period built on a version the receiver rejected after they were written,
 * unless a live one written since builds on what it really holds (docs/state-rules.md).
 */
export function builtOnRejectedIn(m: Model, period: string): MSub[] {
  const stranded = (s: MSub): boolean => LIVE.includes(s.state) && rejectedBaseOf(m, s).length > 0;
  const mine = m.subs.filter((s) => s.period === period);
  return mine.filter((s) => stranded(s) && !mine.some((o) => o.id > s.id && LIVE.includes(o.state) && !stranded(o)));
}

/** The written submissions `send` holds back: never started, built on a version the receiver rejected since. */
export const heldBackBySend = (m: Model): MSub[] => m.subs.filter((s) => s.state === 'written' && !s.goStarted && rejectedBaseOf(m, s).length > 0);

/** Where a period stands for its (single) receiver, by the table of docs/state-rules.md. */
export function expectedPhase(m: Model, period: string): 'to_do' | 'in_progress' | 'delivered' | 'needs_attention' {
  const mine = m.subs.filter((s) => s.period === period);
  const live = mine.filter((s) => LIVE.includes(s.state));
  const lastHeld = [...mine].reverse().find((s) => s.state !== 'cancelled');
  // A receiver that may hold a cancelled submission needs the operator, whatever else it holds.
  if (mayHoldIn(m, period).length > 0) return 'needs_attention';
  if (live.length > 0) {
    // A correction built on a version the receiver rejected since: the records it does not carry are held by nobody.
    if (builtOnRejectedIn(m, period).length > 0) return 'needs_attention';
    if (lastHeld?.state === 'rejected') return 'needs_attention';
    return live.every((s) => FINAL.includes(s.state)) ? 'delivered' : 'in_progress';
  }
  return lastHeld?.state === 'rejected' ? 'needs_attention' : 'to_do';
}

/** serve runs a due period only when it is to do and its receiver did not reject it last. */
export function serveRuns(m: Model, period: string): boolean {
  return expectedPhase(m, period) === 'to_do';
}

/** What `maillon cancel` must do to a submission, by the table. */
export function expectedCancel(m: Model, s: MSub | undefined): string {
  if (!s) return 'exit 4';
  if (s.state === 'cancelled') return 'already-cancelled';
  if (s.state !== 'written' && s.state !== 'sent') return 'exit 8';
  // A later live version of the period (a correction or replacement) builds on it: cancel that first.
  if (m.subs.some((o) => o.period === s.period && o.id > s.id && LIVE.includes(o.state))) return 'exit 8';
  if (s.state === 'written' && !s.goStarted) return 'cancelled-locally';
  return s.taken ? 'exit 8' : 'td-written';
}

/** The outcome the reply rules give a reply (before it is applied), and applies it to the model. */
export function applyExpectedReply(m: Model, r: MReply): 'processed' | 'conflict' | 'set_aside' | 'conflict-or-set-aside' {
  if (!['genuine', 'named-S', 'named-R'].includes(r.variant)) return 'set_aside';
  const s = m.subs.find((x) => x.id === r.subId);
  if (!s) return 'set_aside';
  if (r.variant === 'named-R') return 'conflict-or-set-aside';
  if (r.variant === 'named-S') return 'conflict';
  // A positive reply about a file the receiver rejected (by ACRF, or by NOTI for a NOTI): a conflict
  // that says the receiver took it after all; the submission may be held.
  const positive = r.says !== 'rejected';
  const contradicts = r.kind === 'ACRF' ? s.ack === 'rejected' && !s.noti : s.ack === 'rejected' || s.noti === 'rejected';
  if (s.state === 'rejected' && positive && contradicts) {
    if (!s.acceptedAfterReject) {
      reached('accepted after reject');
      s.answeredLastId = Math.max(...m.subs.map((x) => x.id));
    }
    s.acceptedAfterReject = true;
  }
  if (r.kind === 'ACRF' && (s.noti || s.ack)) return 'conflict';
  if (r.kind === 'NOTI' && (s.noti || s.ack === 'rejected')) return 'conflict';
  if (s.state === 'cancelled' && s.goStarted) {
    if (!s.answeredAfterCancel) {
      reached('answered after cancel');
      s.answeredLastId = Math.max(...m.subs.map((x) => x.id));
      // The rule's case of the reviewer: a newer submission of the period, written before the answer.
      if (m.subs.some((o) => o.period === s.period && o.id > s.id)) reached('answered after cancel, a newer submission written before');
    }
    s.answeredAfterCancel = true;
  }
  if (FINAL.includes(s.state) || (s.state === 'written' && !s.goStarted)) return 'conflict';
  if (r.kind === 'ACRF') s.ack = r.says as MSub['ack'];
  else s.noti = r.says as MSub['noti'];
  const target = s.ack === 'rejected' || s.noti === 'rejected' ? 'rejected' : s.noti ? s.noti : s.ack === 'received' ? 'received' : null;
  if (target && target !== s.state) s.state = target;
  return 'processed';
}

/** What the sequences reached (submission kind and state, reply outcomes), printed at the end of a run. */
export const coverage = new Map<string, number>();
export const reached = (what: string): void => void coverage.set(what, (coverage.get(what) ?? 0) + 1);
