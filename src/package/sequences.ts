import type { Environment } from '../config/config.js';
import type { PoolClient } from '../db/database.js';
import type { LocalDate } from '../period/localDate.js';
import { formatSequence } from './batchFileName.js';

/**
 * Allocates the next sequence for (sender, date, environment) inside the caller's transaction.
 * The row lock serialises concurrent runs; a rollback gives the number back, so sequences
 * have no gaps and are never reused.
 */
export async function allocateSequence(client: PoolClient, sender: string, date: LocalDate, environment: Environment): Promise<string> {
  const res = await client.query<{ last_value: number }>(
    `INSERT INTO maillon.sequences (sender, creation_date, environment, last_value) VALUES ($1, $2, $3, 1)
     ON CONFLICT (sender, creation_date, environment) DO UPDATE SET last_value = maillon.sequences.last_value + 1
     RETURNING last_value`,
    [sender, date, environment],
  );
  return formatSequence(res.rows[0]!.last_value);
}
