import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock/clock.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';
import { OutboxError } from '../errors/errors.js';

/** The marker file's name in the outbox. */
export const MARKER_FILE = '.maillon-outbox';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Checks that `outbox` is the outbox the ledger knows: the files of a run are read back from it
 * by whichever instance delivers them, so every instance must share it. At its first use the
 * outbox gets a marker file (a random id, 0600), recorded in the ledger; afterwards an outbox
 * whose marker differs, or that has none, is refused with an OutboxError (exit 7).
 */
export async function checkOutboxMarker(ledger: Pool, clock: Clock, outbox: string): Promise<string> {
  const file = path.join(outbox, MARKER_FILE);
  const recorded = (await queryFirst(ledger, 'SELECT marker FROM maillon.outbox_marker', [], z.object({ marker: z.string() })))?.marker ?? null;
  let found = await readMarker(file);
  if (found === null && recorded !== null) throw notShared(outbox, `it has no ${MARKER_FILE} file`);
  if (found === null) found = await writeMarker(file);
  if (recorded === null) {
    // Two instances starting together on one outbox wrote one file (created exclusively) and record the same id.
    await ledger.query('INSERT INTO maillon.outbox_marker (marker, recorded_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [found, clock.now()]);
    return checkOutboxMarker(ledger, clock, outbox);
  }
  if (found !== recorded) throw notShared(outbox, `its ${MARKER_FILE} file names another outbox (${found}, the ledger's is ${recorded})`);
  return found;
}

function notShared(outbox: string, why: string): OutboxError {
  return new OutboxError(
    `The outbox ${outbox} is not the one the ledger knows: ${why}. Every instance of maillon must share one outbox (with the documents and evidence folders, on one shared volume): mount it here or set MAILLON_OUTBOX to it, then start again.`,
  );
}

async function readMarker(file: string): Promise<string | null> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new OutboxError(`Cannot read the outbox's marker ${file}: ${err.message}. Fix the folder's permissions, then start again.`, { cause: err });
  });
  if (text === null) return null;
  const id = text.trim();
  if (!UUID.test(id)) throw new OutboxError(`The outbox's marker ${file} does not hold an outbox id. Restore it from another instance's outbox (they share one), then start again.`);
  return id;
}

/**
 * Creates the marker whole or not at all (written aside, then hard-linked: a link never replaces
 * a file); when another instance made it first, its id is the one.
 */
async function writeMarker(file: string): Promise<string> {
  const id = randomUUID();
  const aside = `${file}.${id}.tmp`;
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.writeFile(aside, `${id}\n`, { mode: 0o600 });
    await fs.link(aside, file);
    return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await readMarker(file))!;
    throw new OutboxError(`Cannot write the outbox's marker ${file}: ${(err as Error).message}. Set MAILLON_OUTBOX to a writable folder.`, { cause: err });
  } finally {
    await fs.rm(aside, { force: true });
  }
}
