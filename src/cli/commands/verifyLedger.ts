import type { Command } from 'commander';
import { LedgerTamperedError } from '../../errors/errors.js';
import { type ChainHead, formatChainHead, parseChainHead } from '../../ledger/chainHead.js';
import { verifyChain } from '../../ledger/events.js';
import type { CliContext } from '../context.js';

// Mismatches named in the message; the count says how many more.
const SHOWN = 20;

/**
 * `maillon verify-ledger`: recomputes the event chain and names the first broken link, then the
 * submissions and replies whose tables disagree with it; prints the
 * chain's head for an auditor to write down, and with --expect checks the chain still starts with one.
 */
export function registerVerifyLedger(program: Command, ctx: () => CliContext): void {
  program
    .command('verify-ledger')
    .description('recompute the hash chain of the ledger events and name the first broken link')
    .option('--expect <count:hash>', 'a head printed before: exit 13 unless the chain still starts with it', parseChainHead)
    .option('--json', 'print as JSON')
    .action(async (opts: { expect?: ChainHead; json?: boolean }) => {
      const c = ctx();
      const verdict = await verifyChain((await c.databases()).ledger, opts.expect);
      if (verdict.broken) {
        throw new LedgerTamperedError(
          `The ledger chain is broken${verdict.broken.eventId === null ? '' : ` at event #${verdict.broken.eventId}`}: ${verdict.broken.reason}. The ledger was changed outside maillon; keep the database as it is and compare it with a backup.`,
        );
      }
      if (verdict.mismatches.length > 0) {
        const shown = verdict.mismatches.slice(0, SHOWN).map((m) => `  ${m.what}`);
        const more = verdict.mismatches.length > SHOWN ? [`  and ${verdict.mismatches.length - SHOWN} more`] : [];
        throw new LedgerTamperedError(
          [
            `The ledger's tables disagree with its event chain (${verdict.events} events, intact) in ${verdict.mismatches.length} place(s):`,
            ...shown,
            ...more,
            'They were changed outside maillon; keep the database as it is and compare it with a backup.',
          ].join('\n'),
        );
      }
      if (opts.json) {
        console.log(JSON.stringify({ events: verdict.events, intact: true, head: verdict.head, expected: opts.expect ?? null }, null, 2));
        return;
      }
      console.log(`${verdict.events} events, chain intact`);
      if (opts.expect) console.log(`it still starts with the head written down, ${formatChainHead(opts.expect)}`);
      if (verdict.head) console.log(`head ${formatChainHead(verdict.head)} (write it down; verify-ledger --expect ${formatChainHead(verdict.head)} checks later that the chain still starts with it)`);
    });
}
