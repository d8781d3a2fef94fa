import path from 'node:path';
import { type Clock, fixedClock, systemClock } from '../clock/clock.js';
import { type Config, loadConfig } from '../config/config.js';
import { migrate, requireMigrated } from '../db/migrate.js';
import { type Databases, openDatabases } from '../db/openDatabases.js';
import { createLogger, type Logger } from '../log/logger.js';
import { createXsdValidator, type XsdValidator } from '../render/xsdValidator.js';
import { PACKAGE_ROOT } from '../system/packageRoot.js';

/** Folder of the XSDs shipped with maillon. */
export const SCHEMAS_DIR = path.join(PACKAGE_ROOT, 'schemas');

/** What every command receives: configuration, logger, clock, and databases opened on demand. */
export interface CliContext {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** True when stderr is a terminal: progress bars instead of info logs. */
  interactive: boolean;
  databases(): Promise<Databases>;
  validator(): XsdValidator;
  close(): Promise<void>;
}

/** Builds the context from the environment; the configuration is validated here, at start. */
export function createCliContext(env?: NodeJS.ProcessEnv): CliContext {
  const config = env ? loadConfig(env) : loadConfig();
  const interactive = Boolean(process.stderr.isTTY);
  const logger = createLogger(interactive && config.logLevel === 'info' ? 'warn' : config.logLevel);
  let dbs: Promise<Databases> | null = null;
  // One closing, however often asked: a signal's handler and the command's end both close.
  let closing: Promise<void> | null = null;
  return {
    config,
    logger,
    clock: config.now ? fixedClock(config.now) : systemClock,
    interactive,
    databases() {
      dbs ??= openReady(config, logger);
      return dbs;
    },
    validator: () => createXsdValidator(config.xmllint),
    close() {
      closing ??= (async () => {
        if (dbs) await (await dbs.catch(() => null))?.close();
      })();
      return closing;
    },
  };
}

async function openReady(config: Config, logger: Logger): Promise<Databases> {
  const dbs = await openDatabases(config);
  if (dbs.embedded) {
    // The embedded database belongs to maillon: keep it migrated without asking.
    await migrate(dbs.ledger, 'ledger');
    await migrate(dbs.dossier, 'dossier');
    logger.info({ home: config.home }, 'embedded PostgreSQL started');
    return dbs;
  }
  // One query per schema: missing, behind this maillon's migrations, or unreadable (exit 6).
  try {
    await requireMigrated(dbs.ledger, 'ledger');
    await requireMigrated(dbs.dossier, 'dossier');
  } catch (err) {
    await dbs.close();
    throw err;
  }
  return dbs;
}
