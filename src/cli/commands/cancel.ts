import type { Command } from 'commander';
import { requireReceiversFile } from '../../config/config.js';
import { UsageError } from '../../errors/errors.js';
import { cancelSubmission } from '../../transport/cancelSubmission.js';
import { loadEndpoints } from '../../transport/receivers.js';
import type { CliContext } from '../context.js';

/** `maillon cancel <submission id>`: cancels a submission whose GO the receiver has not taken yet (TD file). */
export function registerCancel(program: Command, ctx: () => CliContext): void {
  program
    .command('cancel')
    .argument('<submission>', 'submission id (as "maillon send" and the report show it)')
    .description('cancel a submission: nothing sent yet, or its GO not yet taken by the receiver (writes the TD file)')
    .action(async (submission: string) => {
      const c = ctx();
      if (!/^\d+$/.test(submission)) throw new UsageError(`"${submission}" is not a submission id (a number).`);
      const dbs = await c.databases();
      const how = await cancelSubmission(
        { ledger: dbs.ledger, clock: c.clock, logger: c.logger, endpoints: loadEndpoints(requireReceiversFile(c.config)), passphrase: c.config.secret },
        Number(submission),
      );
      console.log(how === 'td-written' ? `submission #${submission} cancelled: TD file written` : `submission #${submission} cancelled (it had not been sent)`);
    });
}
