import { realpathSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../system/packageRoot.js';

/**
 * How the user types maillon where they are, for the hints the commands print: `maillon` when
 * that name on PATH is this installation, `npx maillon` inside the checkout (npm start runs
 * bin/maillon.js, which no PATH names), else the entry point's full path.
 */
export function commandHint(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const bin = path.join(PACKAGE_ROOT, 'bin', 'maillon.js');
  const real = (file: string): string | null => {
    try {
      return realpathSync(file);
    } catch {
      return null;
    }
  };
  const self = real(bin);
  for (const dir of (env['PATH'] ?? '').split(':').filter(Boolean)) {
    if (self !== null && real(path.join(dir, 'maillon')) === self) return 'maillon';
  }
  const inside = path.relative(PACKAGE_ROOT, cwd);
  return inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside)) ? 'npx maillon' : bin;
}
