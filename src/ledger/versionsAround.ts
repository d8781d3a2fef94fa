import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { ledgerId, submissionKindColumn, submissionStateColumn } from './rowSchemas.js';
import type { SubmissionKind, SubmissionState } from './transitions.js';

/** Another version of a submission's period for the same receiver. */
export interface SubmissionVersion {
  submissionId: number;
  kind: SubmissionKind;
  state: SubmissionState;
}

/** The versions written before and after a submission, each list oldest first. */
export interface VersionsAround {
  earlier: SubmissionVersion[];
  later: SubmissionVersion[];
}

const VersionRow = z.object({ submission_id: ledgerId, kind: submissionKindColumn, state: submissionStateColumn });

/**
 * The other submissions of the same flow, period, environment and receiver as `submissionId`
 * (the versions the receiver gets one after another), split around it by submission id; both
 * lists empty for an unknown id.
 */
export async function versionsAround(ledger: Pool, submissionId: number): Promise<VersionsAround> {
  const rows = await queryRows(
    ledger,
    `SELECT v.submission_id, v.kind, v.state FROM maillon.submissions s
     JOIN maillon.submissions v ON v.flow = s.flow AND v.period = s.period AND v.environment = s.environment AND v.receiver = s.receiver
     WHERE s.submission_id = $1 AND v.submission_id <> s.submission_id
     ORDER BY v.submission_id`,
    [submissionId],
    VersionRow,
  );
  const versions = rows.map((r) => ({ submissionId: r.submission_id, kind: r.kind, state: r.state }));
  return { earlier: versions.filter((v) => v.submissionId < submissionId), later: versions.filter((v) => v.submissionId > submissionId) };
}
