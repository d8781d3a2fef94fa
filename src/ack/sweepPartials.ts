import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock/clock.js';
import type { Logger } from '../log/logger.js';

/** The least time a partial download must have gone unwritten before it is known to be dead. */
export const STALE_PART_MS = 10 * 60 * 1000;

/**
 * Removes the partial reply downloads (`<instant>-<random>-<name>.part`) that a process killed in
 * the middle of one (SIGKILL, a power loss) left in `repliesDir`: they hold part of a reply (a
 * person's number among it) and nothing else would ever remove them. A live download writes its
 * `.part` as bytes arrive, and one that receives nothing for its endpoint's timeoutMs (`stallMs`,
 * the largest of the endpoints read) is cut and removes its own: only a `.part` not written for
 * twice that, and at least STALE_PART_MS, before now is removed, never one another instance is
 * still writing. Returns how many were removed.
 */
export async function sweepPartials(deps: { repliesDir: string; clock: Clock; logger: Logger }, stallMs: number): Promise<number> {
  const before = deps.clock.now().getTime() - Math.max(STALE_PART_MS, 2 * stallMs);
  let removed = 0;
  for (const entry of await fs.readdir(deps.repliesDir, { withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.part')) continue;
    const file = path.join(deps.repliesDir, entry.name);
    const stat = await fs.lstat(file).catch(() => null); // gone meanwhile: its download ended
    if (!stat?.isFile() || stat.mtimeMs >= before) continue;
    await fs.rm(file, { force: true });
    removed += 1;
  }
  // Names are the receiver's, and may hold a person's number: only their count is logged.
  if (removed > 0) deps.logger.info({ removed, repliesDir: deps.repliesDir }, 'partial reply downloads left by an interrupted pass removed');
  return removed;
}
