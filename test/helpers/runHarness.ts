import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fixedClock } from '../../src/clock/clock.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import { placeholderFund } from '../../src/config/fundConfig.js';
import type { Pool } from '../../src/db/database.js';
import type { RunDeps } from '../../src/engine/runPipeline.js';
import { createLogger } from '../../src/log/logger.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';

/**
 * A scratch folder under the system temp dir, removed by the returned function. Evidence packs
 * are sealed read-only (folders 0500): a user other than root must open them before removing.
 */
export async function scratchDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `maillon-${prefix}-`));
  const remove = async (): Promise<void> => {
    await fs.rm(dir, { recursive: true, force: true }).catch(async () => {
      execFileSync('chmod', ['-R', 'u+rwX', dir]);
      await fs.rm(dir, { recursive: true, force: true });
    });
  };
  return { dir, remove };
}

/** Run dependencies for in-process tests: real database and xmllint, fixed clock, silent logs. */
export function runDeps(pool: Pool, outbox: string, now = '2026-10-10T02:00:00+02:00'): RunDeps {
  return {
    ledger: pool,
    dossier: pool,
    clock: fixedClock(now),
    logger: createLogger('silent'),
    outbox,
    documentsDir: path.join(outbox, '..', `${path.basename(outbox)}-documents`),
    schemasDir: SCHEMAS_DIR,
    validator: createXsdValidator(undefined),
    fund: placeholderFund(),
  };
}

/** The repository's root folder. */
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
