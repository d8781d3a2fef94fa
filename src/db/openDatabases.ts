import type { Config } from '../config/config.js';
import { createPool, type Pool } from './database.js';

/** The two connection pools maillon uses; `close()` ends them and stops an embedded server. */
export interface Databases {
  /** maillon's own database: the ledger. */
  ledger: Pool;
  /** The dossier database the pipelines read (may be a read-only replica). */
  dossier: Pool;
  /** Connection URL of the ledger database (the job queue lives there too). */
  ledgerUrl: string;
  /** True when the embedded PostgreSQL was started for this process. */
  embedded: boolean;
  close(): Promise<void>;
}

/** Opens the ledger and dossier pools; without DATABASE_URL starts the embedded PostgreSQL. */
export async function openDatabases(config: Config): Promise<Databases> {
  // The embedded server's package (and its binaries' package) is loaded only when it is used:
  // it would slow every command's start with an external database.
  const embedded = config.databaseUrl ? null : await (await import('./embeddedPostgres.js')).startEmbeddedPostgres(config.home);
  const ledgerUrl = config.databaseUrl ?? embedded!.url;
  const dossierUrl = config.dossierDatabaseUrl ?? ledgerUrl;
  const ledger = createPool(ledgerUrl);
  const dossier = dossierUrl === ledgerUrl ? ledger : createPool(dossierUrl);
  return {
    ledger,
    dossier,
    ledgerUrl,
    embedded: embedded !== null,
    async close() {
      await ledger.end();
      if (dossier !== ledger) await dossier.end();
      await embedded?.stop();
    },
  };
}
