import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { UsageError } from '../errors/errors.js';
import { maskPersonalData } from '../log/maskPersonalData.js';
import { escapeControls } from '../system/escapeControls.js';

/**
 * The replies an operator asked to read again (maillon acks --reread), checked before any is:
 * each must be in the ledger, set aside (a reply read, applied or in conflict, is never read
 * again). Throws a UsageError naming each one that is not.
 */
export async function checkRereads(ledger: Pool, names: readonly string[]): Promise<ReadonlySet<string>> {
  const rows = await queryRows(
    ledger,
    `SELECT name, state, received_at FROM maillon.replies WHERE name = ANY($1::text[]) ORDER BY received_at`,
    [names],
    z.object({ name: z.string(), state: z.enum(['processed', 'conflict', 'set_aside']), received_at: z.date() }),
  );
  const refusals: string[] = [];
  for (const name of new Set(names)) {
    const shown = escapeControls(maskPersonalData(name.slice(0, 120)));
    const mine = rows.filter((r) => r.name === name);
    if (mine.length === 0) {
      refusals.push(`No reply named ${shown} is in the ledger (maillon acks prints the names of the replies it sets aside; maillon status lists those tied to no period).`);
    } else if (!mine.some((r) => r.state === 'set_aside')) {
      const read = mine[0]!;
      refusals.push(
        `${shown} was read on ${read.received_at.toISOString()} (${read.state === 'processed' ? 'applied' : 'recorded as a conflict'}): only a reply set aside can be read again; what was read stands.`,
      );
    }
  }
  if (refusals.length > 0) throw new UsageError(`${refusals.join(' ')} Nothing was read.`);
  return new Set(names);
}
