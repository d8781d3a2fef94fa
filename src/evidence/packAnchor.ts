import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock/clock.js';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { recordEvent } from '../ledger/events.js';
import { FINAL_STATES } from '../ledger/transitions.js';

/**
 * The kind of the chained event that anchors a pack's (or an addendum's) manifest.json in the
 * ledger: detail `{ pack, manifest }`, the pack's name (`submission-<id>` or
 * `submission-<id>.addenda/reply-<reply id>`) and the sha256 of its manifest.json's bytes.
 */
export const PACK_ANCHOR_EVENT = 'evidence_written';

/** An anchoring event as the ledger holds it: its id and hash in the chain, and the manifest's sha256. */
export interface PackAnchor {
  eventId: number;
  hash: string;
  manifest: string;
}

/**
 * What the ledger says of a submission's packs: the anchors of each pack by name (several when a
 * pack was written again, after one whose rename did not happen), and `required()`: when the
 * ledger's first anchoring event comes before the submission became final (its first final-state
 * event), every pack of it was written by a maillon that anchors them; null when a pack of it may
 * have been written before. Asked only of a pack without anchor.
 */
export interface PackAnchors {
  byPack: ReadonlyMap<string, readonly PackAnchor[]>;
  required(): Promise<{ firstAnchor: number; final: number } | null>;
}

/** The sha256 of a manifest's bytes, as an anchor records it. */
export function manifestSha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Records the manifest of a pack (or addendum) written in a temporary folder, before it is given
 * its name: a pack on disk is then always anchored. An anchor whose pack never got its name (a
 * crash, another process first) anchors nothing on disk and is harmless.
 */
export async function anchorPack(ledger: Pool, clock: Clock, submissionId: number, pack: string, manifest: Buffer): Promise<void> {
  await recordEvent(ledger, { at: clock.now(), submissionId, kind: PACK_ANCHOR_EVENT, detail: { pack, manifest: manifestSha256(manifest) } });
}

const AnchorRow = z.object({ event_id: z.string(), hash: z.string(), pack: z.string().nullable(), manifest: z.string().nullable() });
const EventId = z.object({ event_id: z.string().nullable() });

/** The anchors of a submission's packs (by migration 130's index), and whether they are all required (see PackAnchors). */
export async function readPackAnchors(ledger: Pool, submissionId: number): Promise<PackAnchors> {
  const rows = await queryRows(
    ledger,
    `SELECT event_id, hash, detail->>'pack' AS pack, detail->>'manifest' AS manifest FROM maillon.events WHERE submission_id = $1 AND kind = $2 ORDER BY event_id`,
    [submissionId, PACK_ANCHOR_EVENT],
    AnchorRow,
  );
  const byPack = new Map<string, PackAnchor[]>();
  for (const r of rows) {
    if (r.pack === null || r.manifest === null) continue;
    byPack.set(r.pack, [...(byPack.get(r.pack) ?? []), { eventId: Number(r.event_id), hash: r.hash, manifest: r.manifest }]);
  }
  const required = async (): Promise<{ firstAnchor: number; final: number } | null> => {
    const first = await queryFirst(ledger, `SELECT min(event_id)::text AS event_id FROM maillon.events WHERE kind = $1`, [PACK_ANCHOR_EVENT], EventId);
    if (!first?.event_id) return null;
    const final = await queryFirst(ledger, `SELECT min(event_id)::text AS event_id FROM maillon.events WHERE submission_id = $1 AND kind = ANY($2)`, [submissionId, FINAL_STATES], EventId);
    if (!final?.event_id || Number(final.event_id) < Number(first.event_id)) return null;
    return { firstAnchor: Number(first.event_id), final: Number(final.event_id) };
  };
  return { byPack, required };
}
