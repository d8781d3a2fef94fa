import type { Command } from 'commander';
import { LedgerTamperedError } from '../../errors/errors.js';
import { verifyChain } from '../../ledger/events.js';
import type { CliContext } from '../context.js';

/** `maillon verify-ledger`: recomputes the event chain and names the first broken link. */
export function registerVerifyLedger(program: Command, ctx: () => CliContext): void {
  program
    .command('verify-ledger')
    .description('recompute the hash chain of the ledger events and name the first broken link')
    .action(async () => {
      const c = ctx();
      const verdict = await verifyChain((await c.databases()).ledger);
      if (verdict.broken) {
        throw new LedgerTamperedError(
          `The ledger chain is broken${verdict.broken.eventId === null ? '' : ` at event #${verdict.broken.eventId}`}: ${verdict.broken.reason}. The ledger was changed outside maillon; keep the database as it is and compare it with a backup.`,
        );
      }
      console.log(`${verdict.events} events, chain intact`);
    });
}
