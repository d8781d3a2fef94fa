import fs from 'node:fs/promises';
import path from 'node:path';

/** Gives the owner back the right to change a folder and the folders under it (a pack is 0500), so that it can be removed. */
export async function makeWritable(dir: string): Promise<void> {
  await fs.chmod(dir, 0o700).catch(() => undefined);
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await makeWritable(path.join(dir, e.name));
}
