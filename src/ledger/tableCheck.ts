import { SUBMISSION_STATES } from './transitions.js';

/** A row of the ledger's tables that disagrees with the event chain: the submission, and what differs. */
export interface TableMismatch {
  submissionId: number | null;
  what: string;
}

/** A submission as its tables hold it: its state, and its files' names and sha256. */
export interface SubmissionRow {
  id: number;
  state: string;
  files: { name: string; sha256: string }[];
}

/** A reply the ledger applied (state processed), with the submission of the file it names. */
export interface ProcessedReplyRow {
  name: string;
  kind: string;
  file: string;
  submissionId: number | null;
}

/**
 * What the chain says of each submission, learnt event by event, then compared with the tables:
 * the state of its last state event, the files of its `written` event, the replies applied
 * (an `acrf` or `noti` event each). Holds one entry per submission and per applied reply.
 */
export class TableCheck {
  private readonly lastState = new Map<number, string>();
  private readonly writtenFiles = new Map<number, string>();
  private readonly replies = new Set<string>();

  /** Learns one verified event. */
  learn(e: { submissionId: number | null; kind: string; detail: Record<string, unknown> }): void {
    if (e.submissionId === null) return;
    // Read when called, not when loaded: transitions.ts and events.ts import each other through here.
    if ((SUBMISSION_STATES as readonly string[]).includes(e.kind)) this.lastState.set(e.submissionId, e.kind);
    if (e.kind === 'written') this.writtenFiles.set(e.submissionId, filesText((e.detail['files'] as { name: string; sha256: string }[] | undefined) ?? []));
    if (e.kind === 'acrf' || e.kind === 'noti') this.replies.add(replyKey(e.kind, String(e.detail['reply']), String(e.detail['file'])));
  }

  /** What differs between a submission's row and files and its events; null when they agree. */
  submission(s: SubmissionRow): TableMismatch | null {
    const state = this.lastState.get(s.id);
    if (state === undefined) return { submissionId: s.id, what: `submission ${s.id} is in maillon.submissions but the chain has no event of it` };
    if (state !== s.state) return { submissionId: s.id, what: `submission ${s.id} is ${s.state} in maillon.submissions, but its last state event says ${state}` };
    const tables = filesText(s.files);
    const chain = this.writtenFiles.get(s.id) ?? '';
    if (tables !== chain) return { submissionId: s.id, what: `submission ${s.id}'s files in maillon.files (${tables || 'none'}) are not those of its written event (${chain || 'none'})` };
    return null;
  }

  /** A processed reply without its event; null when the chain has it. */
  reply(r: ProcessedReplyRow): TableMismatch | null {
    if (this.replies.has(replyKey(r.kind.toLowerCase(), r.name, r.file))) return null;
    return { submissionId: r.submissionId, what: `the ${r.kind} reply ${r.name} about ${r.file} is processed in maillon.replies, but the chain has no event of it` };
  }
}

function filesText(files: readonly { name: string; sha256: string }[]): string {
  return files
    .map((f) => `${f.name} sha256 ${f.sha256}`)
    .sort()
    .join(', ');
}

function replyKey(kind: string, name: string, file: string): string {
  return `${kind}\u0000${name}\u0000${file}`;
}
