import type { Environment } from '../domain/environment.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';

/** A reply about one of the period's files that was not applied: set aside, or read and not believed. */
export interface ReplyIssue {
  name: string;
  /** set_aside: unreadable, unverifiable or refused; conflict: read, but its environment, its file's replies or its submission's state forbid believing it. */
  state: 'set_aside' | 'conflict';
  /** The data file it is about. */
  file: string;
  reason: string;
  receivedAt: string;
}

/** The replies set aside or in conflict about any file sent for a flow, period and environment (every run), oldest first. */
export async function readReplyIssues(ledger: Pool, flow: string, period: string, environment: Environment): Promise<ReplyIssue[]> {
  const rows = await queryRows(
    ledger,
    `SELECT r.name, r.state, r.file_name, r.reason, r.received_at FROM maillon.replies r
     WHERE r.state IN ('set_aside', 'conflict') AND r.file_name IN (
       SELECT f.name FROM maillon.files f JOIN maillon.submissions s USING (submission_id)
       WHERE s.flow = $1 AND s.period = $2 AND s.environment = $3 AND f.kind = 'FI')
     ORDER BY r.received_at, r.reply_id`,
    [flow, period, environment],
    z.object({ name: z.string(), state: z.enum(['set_aside', 'conflict']), file_name: z.string(), reason: z.string().nullable(), received_at: z.date() }),
  );
  return rows.map((r) => ({ name: r.name, state: r.state, file: r.file_name, reason: r.reason ?? '', receivedAt: r.received_at.toISOString() }));
}
