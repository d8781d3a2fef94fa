import type { Command } from 'commander';
import { migrate } from '../../db/migrate.js';
import { openDatabases } from '../../db/openDatabases.js';
import type { CliContext } from '../context.js';

/** `maillon db migrate`: brings the ledger and dossier schemas to the latest version. */
export function registerDbMigrate(program: Command, ctx: () => CliContext): void {
  const db = program.command('db').description('database administration');
  db.command('migrate')
    .description('create or upgrade the ledger and dossier schemas (idempotent)')
    .option('--ledger-only', 'leave the dossier database alone (read-only replica)')
    .action(async (opts: { ledgerOnly?: boolean }) => {
      // Not ctx().databases(): that one refuses a database that is not migrated yet.
      const dbs = await openDatabases(ctx().config);
      try {
        const ledger = await migrate(dbs.ledger, 'ledger');
        const dossier = opts.ledgerOnly ? [] : await migrate(dbs.dossier, 'dossier');
        console.log(`ledger schema: ${ledger.length ? `applied ${ledger.join(', ')}` : 'up to date'}`);
        if (!opts.ledgerOnly) console.log(`dossier schema: ${dossier.length ? `applied ${dossier.join(', ')}` : 'up to date'}`);
      } finally {
        await dbs.close();
      }
    });
}
