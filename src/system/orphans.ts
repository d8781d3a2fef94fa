import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Moves a file or folder that stands under a name the ledger is about to use, but belongs to
 * none of its rows (after a restore from an older backup), into `<root>/.orphans/` as
 * `<label>.<random>` (suffixed: the same name may come up twice). A read-only folder is made
 * writable for the move (another parent needs its `..` rewritten) and read-only again after.
 * Returns where it went, or null when it was gone meanwhile (another process moved it).
 */
export async function moveToOrphans(root: string, from: string, label: string): Promise<string | null> {
  const orphans = path.join(root, '.orphans');
  await fs.mkdir(orphans, { recursive: true, mode: 0o700 });
  const target = path.join(orphans, `${label}.${randomBytes(4).toString('hex')}`);
  try {
    const mode = (await fs.stat(from)).mode & 0o777;
    if ((mode & 0o200) === 0) await fs.chmod(from, mode | 0o200);
    await fs.rename(from, target);
    if ((mode & 0o200) === 0) await fs.chmod(target, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return target;
}
