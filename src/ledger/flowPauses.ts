import os from 'node:os';
import type { Environment } from '../config/config.js';
import { z } from 'zod';
import type { Pool, PoolClient } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { FlowPausedError } from '../errors/errors.js';
import { recordEvent } from './events.js';

/** Why and by whom a flow is paused. */
export interface FlowPause {
  flow: string;
  reason: string;
  by: string;
  at: Date;
}

type Db = Pool | PoolClient;

const PauseRow = z.object({ flow: z.string(), kind: z.enum(['flow_paused', 'flow_resumed']), reason: z.string().nullable(), by: z.string(), at: z.date() });

/**
 * The paused flows of an environment: the latest pause-or-resume event of each flow in the
 * ledger's event chain, when it is a pause. Every instance reads the same chain, so a pause is
 * honoured by all of them from their next look.
 */
export async function pausedFlows(ledger: Db, environment: Environment): Promise<Map<string, FlowPause>> {
  const rows = await queryRows(
    ledger,
    `SELECT DISTINCT ON (detail->>'flow') detail->>'flow' AS flow, kind, detail->>'reason' AS reason, detail->>'by' AS by, at
     FROM maillon.events WHERE kind IN ('flow_paused', 'flow_resumed') AND detail->>'environment' = $1
     ORDER BY detail->>'flow', event_id DESC`,
    [environment],
    PauseRow,
  );
  // A pause always has a reason (pause --reason is required); a resume has none.
  return new Map(rows.filter((r) => r.kind === 'flow_paused').map((r) => [r.flow, { flow: r.flow, reason: r.reason ?? '', by: r.by, at: r.at }]));
}

/** Records a pause (or a resume) as an event; returns false when the flow already was in that state. */
export async function setFlowPaused(ledger: Pool, environment: Environment, flow: string, paused: boolean, at: Date, reason: string | null): Promise<boolean> {
  const was = (await pausedFlows(ledger, environment)).has(flow);
  if (was === paused) return false;
  const detail: Record<string, unknown> = { flow, environment, by: os.userInfo().username, host: os.hostname() };
  if (reason !== null) detail['reason'] = reason;
  await recordEvent(ledger, { at, submissionId: null, kind: paused ? 'flow_paused' : 'flow_resumed', detail });
  return true;
}

/** Refuses a writing run of a paused flow, naming the pause and how to lift it. */
export async function refuseIfPaused(ledger: Db, environment: Environment, flow: string): Promise<void> {
  const pause = (await pausedFlows(ledger, environment)).get(flow);
  if (pause) throw pausedError(pause, environment);
}

/** The refusal of a run of a paused flow. */
export function pausedError(p: FlowPause, environment: Environment): FlowPausedError {
  return new FlowPausedError(
    `The flow ${p.flow} is paused in environment ${environment} since ${p.at.toISOString()} by ${p.by} ("${p.reason}"): nothing of it is run. ` +
      `To run it again: maillon resume ${p.flow} --env ${environment}.`,
  );
}
