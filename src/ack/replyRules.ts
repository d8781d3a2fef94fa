import type { Environment } from '../domain/environment.js';
import type { ReplyHeader } from './replyXml.js';

/** The reply folder a reply was read from: OUT serves production (R), OUTTEST the test environments (T and S). */
export type ReplyFolder = 'OUT' | 'OUTTEST';

/** The environments whose replies a folder holds. */
export function folderEnvironments(folder: ReplyFolder): readonly Environment[] {
  return folder === 'OUT' ? ['R'] : ['T', 'S'];
}

/** Where a reply was read from. */
export interface ReplyOrigin {
  /** `user@host:port/dir`: the server and folder it was read from. */
  server: string;
  folder: ReplyFolder;
  /** The environment letter of the reply's own name. */
  nameEnvironment: Environment;
  /** The receivers whose endpoints resolve to that server and folder (several may share one). */
  receivers: readonly string[];
}

/** What the ledger holds about the file a reply names, read under the submission's lock. */
export interface NamedFile {
  name: string;
  submissionId: number;
  /** The receiver the file's submission was sent to. */
  receiver: string;
  /** The environment of the file's submission. */
  environment: Environment;
  submissionState: string;
  /** Whether the submission's GO was ever started (null: the receiver never had it). */
  goStarted: boolean;
  ack: 'received' | 'rejected' | null;
  noti: 'accepted' | 'accepted_with_anomalies' | 'rejected' | null;
  /** The replies already applied to this file, by kind (for the sentences). */
  applied: { ACRF?: string; NOTI?: string };
  /**
   * How this reply compares with the one of its kind already applied to the file, when there is
   * one (absent: taken as saying the same).
   */
  repetition?: Repetition;
}

/** A second ACRF or NOTI of a file, compared with the one applied. */
export interface Repetition {
  /** The same bytes (sha256), or the same result and the same anomalies (NOTI) or error ids (ACRF), in any order. */
  same: boolean;
  /** NOTI: its anomalies that no reply about the file gave before; ACRF: its error ids the applied ACRF did not give. */
  added: number;
  /** NOTI: of those anomalies, the blocking ones. */
  addedBlocking: number;
}

/** Submission states that nothing may leave. */
export const FINAL_SUBMISSION_STATES: readonly string[] = ['accepted', 'accepted_with_anomalies', 'rejected', 'cancelled'];

/**
 * Why a well-formed reply about one of our files must not be believed, or null when it may be
 * applied. In order: its name's environment, the folder it came from and its file's environment
 * must agree; it must come from the server and folder of the receiver its file was sent to; it
 * must not repeat or contradict a reply already applied to that file (a second ACRF or NOTI, an
 * ACRF after the NOTI, a NOTI after a negative ACRF); its submission must have been sent and not
 * be in a final state. The reason is a sentence for the operator.
 */
export function conflictOf(reply: ReplyHeader, origin: ReplyOrigin, file: NamedFile): string | null {
  return environmentConflict(origin, file) ?? receiverConflict(origin, file) ?? fileConflict(reply, file) ?? submissionConflict(file);
}

function environmentConflict({ nameEnvironment, folder }: ReplyOrigin, file: NamedFile): string | null {
  const allowed = folderEnvironments(folder);
  const problems: string[] = [];
  if (!allowed.includes(nameEnvironment)) problems.push(`its name says environment ${nameEnvironment} but it came from ${folder}, which holds ${allowed.join(' and ')} replies only`);
  if (file.environment !== nameEnvironment) problems.push(`its name says environment ${nameEnvironment} but the file it names, ${file.name}, was sent in environment ${file.environment}`);
  return problems.length ? `Environments disagree: ${problems.join('; ')}. It was not believed.` : null;
}

/** Receivers named in a reason, at most; the rest are counted. */
const NAMED_RECEIVERS = 5;

function receiverConflict({ server, receivers }: ReplyOrigin, file: NamedFile): string | null {
  if (receivers.includes(file.receiver)) return null;
  const named = receivers.slice(0, NAMED_RECEIVERS).join(', ');
  const rest = receivers.length > NAMED_RECEIVERS ? ` and ${receivers.length - NAMED_RECEIVERS} other receivers` : '';
  const holds = receivers.length ? `which holds the replies of ${named}${rest} only` : 'which holds the replies of none of our receivers';
  return `Wrong receiver: it came from ${server}, ${holds}, but the file it names, ${file.name}, was sent to ${file.receiver}. It was not believed; check the receivers file if ${file.receiver} really answers there.`;
}

function fileConflict(reply: ReplyHeader, file: NamedFile): string | null {
  const earlier = (kind: 'ACRF' | 'NOTI'): string => (file.applied[kind] ? ` (${file.applied[kind]})` : '');
  if (reply.kind === 'ACRF') {
    if (file.noti) return `Contradiction: an ACRF after the NOTI${earlier('NOTI')} of ${file.name}, which already said ${file.noti}; the NOTI stands.`;
    if (file.ack) {
      const says = reply.accepted ? 'received' : 'rejected';
      if (says !== file.ack) return `Contradiction: this ACRF says ${says} but the ACRF already applied to ${file.name}${earlier('ACRF')} said ${file.ack}; the first stands.`;
      if (file.repetition?.same ?? true) return `Duplicate: the ACRF of ${file.name} was already applied${earlier('ACRF')}, saying the same (${file.ack}).`;
      const added = file.repetition!.added;
      return (
        `Contradiction: this ACRF says ${says}, as the ACRF already applied to ${file.name}${earlier('ACRF')} did, but not for the same reasons: ` +
        `it gives ${count(added, 'error id')} that one did not give. The first stands; this reply is kept as received.`
      );
    }
    return null;
  }
  if (file.noti) {
    const r = file.repetition;
    const carries = r && r.added > 0 ? ` ${newAnomalies(r)}` : '';
    if (reply.result !== file.noti)
      return `Contradiction: this NOTI says ${reply.result} but the NOTI already applied to ${file.name}${earlier('NOTI')} said ${file.noti}; the first stands.${carries}`;
    if (r?.same ?? true) return `Duplicate: the NOTI of ${file.name} was already applied${earlier('NOTI')}, saying the same (${file.noti}).`;
    return `Contradiction: this NOTI says ${reply.result}, as the NOTI already applied to ${file.name}${earlier('NOTI')} did, but not with the same anomalies; its result changes nothing.${carries || ' It carries no anomaly that an earlier reply did not give.'}`;
  }
  if (file.ack === 'rejected') return `Contradiction: a NOTI about ${file.name}, which its ACRF${earlier('ACRF')} rejected on reception; a rejected file is never processed.`;
  return null;
}

/** The sentence of a later NOTI's new anomalies, recorded although the reply is a conflict. */
function newAnomalies(r: Repetition): string {
  const others = r.added - r.addedBlocking;
  return (
    `It carries ${count(r.addedBlocking, 'new blocking anomaly', 'new blocking anomalies')}${others ? ` and ${count(others, 'other new anomaly', 'other new anomalies')}` : ''}, ` +
    `recorded with the records they name: a blocking one refuses its record (maillon report, maillon trace).`
  );
}

/** "1 error id", "3 error ids". */
function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * True when a reply is a later NOTI of a file whose new anomalies are recorded although the reply
 * is a conflict: it came from where its file's replies come from, in its environment, and the
 * file already has its NOTI. The file's and the submission's states stand; the receiver's latest
 * word about a record is not lost (docs/replies.md).
 */
export function keepsAnomaliesOf(reply: ReplyHeader, origin: ReplyOrigin, file: NamedFile): boolean {
  return reply.kind === 'NOTI' && file.noti !== null && environmentConflict(origin, file) === null && receiverConflict(origin, file) === null;
}

/**
 * True when a trusted reply says the receiver took a file the ledger says it rejected: a positive
 * ACRF after a negative one, or a NOTI accepting (with or without anomalies) a file its ACRF or an
 * earlier NOTI rejected. The receiver may hold the submission although the ledger says rejected.
 */
export function contradictsRejection(reply: ReplyHeader, origin: ReplyOrigin, file: NamedFile): boolean {
  if (environmentConflict(origin, file) !== null || receiverConflict(origin, file) !== null) return false;
  if (reply.kind === 'ACRF') return reply.accepted && file.ack === 'rejected' && file.noti === null;
  return reply.result !== 'rejected' && (file.ack === 'rejected' || file.noti === 'rejected');
}

/**
 * True when a reply is a conflict only because its submission was cancelled after its GO was
 * started: the receiver took the GO before the TD, and may hold what the ledger says it does not.
 */
export function answersCancelledDelivery(reply: ReplyHeader, origin: ReplyOrigin, file: NamedFile): boolean {
  return file.submissionState === 'cancelled' && file.goStarted && environmentConflict(origin, file) === null && receiverConflict(origin, file) === null && fileConflict(reply, file) === null;
}

function submissionConflict(file: NamedFile): string | null {
  if (FINAL_SUBMISSION_STATES.includes(file.submissionState)) {
    return `Submission ${file.submissionId} of ${file.name} is already ${file.submissionState}, a final state that no reply changes; this reply was not applied.`;
  }
  if (file.submissionState === 'written' && !file.goStarted) {
    return `Submission ${file.submissionId} of ${file.name} was never sent (no GO was written); the receiver cannot have answered it.`;
  }
  return null;
}
