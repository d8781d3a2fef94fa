import type { Environment } from '../domain/environment.js';
import { z } from 'zod';
import type { PoolClient } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';
import type { LocalDate } from '../period/localDate.js';
import { formatSequence } from './batchFileName.js';

/**
 * Allocates the next `count` sequences for (sender, date, environment) inside the caller's
 * transaction, in one statement: a run with eight submissions takes eight consecutive numbers.
 * The row lock serialises concurrent runs; a rollback gives the numbers back, so sequences have
 * no gaps and are never reused.
 */
export async function allocateSequences(client: PoolClient, sender: string, date: LocalDate, environment: Environment, count: number): Promise<string[]> {
  if (count < 1) return [];
  const row = await queryFirst(
    client,
    `INSERT INTO maillon.sequences (sender, creation_date, environment, last_value) VALUES ($1, $2, $3, $4)
     ON CONFLICT (sender, creation_date, environment) DO UPDATE SET last_value = maillon.sequences.last_value + $4
     RETURNING last_value`,
    [sender, date, environment, count],
    z.object({ last_value: z.number() }),
  );
  const last = row!.last_value;
  return Array.from({ length: count }, (_, i) => formatSequence(last - count + 1 + i));
}
