import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Pool, type PoolClient, withTransaction } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';
import { extractRows } from '../extract/extractRows.js';
import type { ChainHead } from './chainHead.js';
import { type ProcessedReplyRow, type SubmissionRow, TableCheck, type TableMismatch } from './tableCheck.js';

/** The hash before the first event. */
export const GENESIS = '0'.repeat(64);

/** One state change of a submission. */
export interface LedgerEvent {
  at: Date;
  submissionId: number | null;
  kind: string;
  detail: Record<string, unknown>;
}

// Serialises appends, so that each event chains to the one committed before it.
const CHAIN_LOCK = 0x6d61_0005;

/** JSON with object keys sorted at every level: the same bytes whatever order jsonb keeps. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The hash of an event: sha256 over the previous hash and the event's canonical content. */
export function eventHash(prevHash: string, e: LedgerEvent): string {
  return createHash('sha256')
    .update(prevHash)
    .update(canonicalJson({ at: e.at.toISOString(), submissionId: e.submissionId, kind: e.kind, detail: e.detail }))
    .digest('hex');
}

/** Appends an event inside the caller's transaction (which must commit for it to count). */
export async function appendEvent(tx: PoolClient, e: LedgerEvent): Promise<void> {
  await appendEvents(tx, [e]);
}

/**
 * Takes the lock that serialises appends to the chain, in the caller's transaction, until it ends
 * (appendEvents takes it again at no cost): whatever the chain says now cannot change before the
 * caller commits (a pause, say).
 */
export async function lockEventChain(tx: PoolClient): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
}

/** Appends events, chained in the order given, in three statements whatever their number. */
export async function appendEvents(tx: PoolClient, events: readonly LedgerEvent[]): Promise<void> {
  if (events.length === 0) return;
  const lock = await queryFirst(tx, `SELECT current_setting('transaction_isolation') AS isolation FROM pg_advisory_xact_lock($1)`, [CHAIN_LOCK], z.object({ isolation: z.string() }));
  // Under a snapshot older than the lock the last event read below could be stale: a fork.
  if (lock?.isolation !== 'read committed') throw new Error(`events are appended in a read committed transaction (db/database.ts BEGIN), not ${lock?.isolation}`);
  const last = await queryFirst(tx, 'SELECT hash FROM maillon.events ORDER BY event_id DESC LIMIT 1', [], z.object({ hash: z.string() }));
  let prev = last?.hash ?? GENESIS;
  const rows = events.map((e) => {
    const hash = eventHash(prev, e);
    const row = { at: e.at, submissionId: e.submissionId, kind: e.kind, detail: JSON.stringify(e.detail), prev, hash };
    prev = hash;
    return row;
  });
  // Inserted in chain order, so that event ids follow the chain.
  await tx.query(
    `INSERT INTO maillon.events (at, submission_id, kind, detail, prev_hash, hash)
     SELECT at, submission_id, kind, detail::jsonb, prev_hash, hash
     FROM unnest($1::timestamptz[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e (at, submission_id, kind, detail, prev_hash, hash, ord)
     ORDER BY ord`,
    [rows.map((r) => r.at), rows.map((r) => r.submissionId), rows.map((r) => r.kind), rows.map((r) => r.detail), rows.map((r) => r.prev), rows.map((r) => r.hash)],
  );
}

/** Appends an event in a transaction of its own. */
export async function recordEvent(ledger: Pool, e: LedgerEvent): Promise<void> {
  await withTransaction(ledger, (client) => appendEvent(client, e));
}

/**
 * The verdict of a chain check: the number of events read, the head verified (null when there is no
 * event), and the first broken link if any (no event id when the events missing are not there to name).
 */
export interface ChainVerdict {
  events: number;
  head: ChainHead | null;
  broken: { eventId: number | null; reason: string } | null;
  /** Rows of the tables that disagree with an intact chain (checked only when it is intact). */
  mismatches: TableMismatch[];
}

const CHAIN_ROWS = `SELECT json_build_object('t', 'e', 'id', event_id, 'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'submissionId', submission_id,
  'kind', kind, 'detail', detail, 'prev', prev_hash, 'hash', hash) FROM maillon.events ORDER BY event_id`;
const SUBMISSION_ROWS = `SELECT json_build_object('t', 's', 'id', s.submission_id, 'state', s.state,
  'files', coalesce(json_agg(json_build_object('name', f.name, 'sha256', f.sha256)) FILTER (WHERE f.file_id IS NOT NULL), '[]'::json))
  FROM maillon.submissions s LEFT JOIN maillon.files f ON f.submission_id = s.submission_id GROUP BY s.submission_id ORDER BY s.submission_id`;
const REPLY_ROWS = `SELECT json_build_object('t', 'r', 'name', r.name, 'kind', r.kind, 'file', r.file_name, 'submissionId', f.submission_id)
  FROM maillon.replies r LEFT JOIN maillon.files f ON f.name = r.file_name AND f.kind = 'FI' WHERE r.state = 'processed' ORDER BY r.reply_id`;
type ChainRow = { t: 'e'; id: number; at: string; submissionId: number | null; kind: string; detail: Record<string, unknown>; prev: string; hash: string };
type Row = ChainRow | ({ t: 's' } & SubmissionRow) | ({ t: 'r' } & ProcessedReplyRow);

/**
 * Recomputes the whole chain, streaming; names the first event whose link or content does not
 * hold, or, given the head an auditor wrote down, where the chain no longer starts with it.
 */
export async function verifyChain(ledger: Pool, anchor?: ChainHead): Promise<ChainVerdict> {
  let prev = GENESIS;
  let n = 0;
  // The last event verified so far: `count` of them, the last one's hash in `prev`.
  const headOf = (count: number): ChainHead | null => (count > 0 ? { count, hash: prev } : null);
  const tables = new TableCheck();
  const mismatches: TableMismatch[] = [];
  // The chain, then the tables it is compared with, in one snapshot: a send or a reply committed
  // meanwhile is in both or in neither.
  for await (const raw of extractRows(ledger, [CHAIN_ROWS, SUBMISSION_ROWS, REPLY_ROWS])) {
    const row = raw as Row;
    if (row.t !== 'e') {
      const mismatch = row.t === 's' ? tables.submission(row) : tables.reply(row);
      if (mismatch) mismatches.push(mismatch);
      continue;
    }
    const r = row;
    n++;
    if (r.prev !== prev)
      return { events: n, head: headOf(n - 1), broken: { eventId: r.id, reason: `its previous-hash does not match event before it (an event was removed, inserted or reordered)` }, mismatches };
    const expected = eventHash(prev, { at: new Date(r.at), submissionId: r.submissionId, kind: r.kind, detail: r.detail });
    if (expected !== r.hash) return { events: n, head: headOf(n - 1), broken: { eventId: r.id, reason: 'its content no longer matches its hash (it was edited)' }, mismatches };
    if (anchor && anchor.count === n && anchor.hash !== r.hash) {
      const reason = `it is the chain's event ${n}, whose hash was written down as ${anchor.hash} and is now ${r.hash} (the chain was rewritten up to it)`;
      return { events: n, head: headOf(n - 1), broken: { eventId: r.id, reason }, mismatches };
    }
    tables.learn(r);
    prev = r.hash;
  }
  const head = headOf(n);
  if (anchor && n < anchor.count) {
    return { events: n, head, broken: { eventId: null, reason: `it holds ${n} events, fewer than the ${anchor.count} of the head written down (events were removed from its end)` }, mismatches };
  }
  if (n === 0) {
    // Every submission is written with its event: no event at all means they were removed.
    const held = await queryFirst(ledger, 'SELECT count(*)::int AS n FROM maillon.submissions', [], z.object({ n: z.number() }));
    if (held && held.n > 0) return { events: 0, head, broken: { eventId: null, reason: `the ledger holds ${held.n} submission(s) but no event at all (the events were removed)` }, mismatches };
  }
  return { events: n, head, broken: null, mismatches };
}
