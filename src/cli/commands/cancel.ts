import type { Command } from 'commander';
import { refuseTestHooks, requireReceiversFile } from '../../config/config.js';
import { NotFoundError, UsageError } from '../../errors/errors.js';
import { periodOfSubmission } from '../../ledger/periodView.js';
import { cancelSubmission } from '../../transport/cancelSubmission.js';
import { loadEndpoints } from '../../transport/receivers.js';
import type { CliContext } from '../context.js';
import { cancelTestHooks } from '../testHooks.js';

/** `maillon cancel <submission id>`: cancels a submission whose GO the receiver has not taken yet (TD file). */
export function registerCancel(program: Command, ctx: () => CliContext): void {
  program
    .command('cancel')
    .argument('<submission>', 'submission id (as "maillon send", "maillon status" and the report show it)')
    .description('cancel a submission: nothing sent yet, or its GO not yet taken by the receiver (writes the TD file); its period is then to do again')
    .action(async (submission: string) => {
      const c = ctx();
      if (!/^\d+$/.test(submission)) throw new UsageError(`"${submission}" is not a submission id (a number).`);
      const id = Number(submission);
      const dbs = await c.databases();
      const period = await periodOfSubmission(dbs.ledger, id);
      if (!period) throw new NotFoundError(`There is no submission #${id}; "maillon status" and "maillon report" list them.`);
      refuseTestHooks(c.config, period.environment);
      // The receivers' file is read only when the server must be checked (the GO was started).
      const endpoints = { forReceiver: (receiver: string) => loadEndpoints(requireReceiversFile(c.config)).forReceiver(receiver) };
      let removed: readonly string[] | null = null;
      const onRemoved = (names: readonly string[]): void => {
        removed = names;
      };
      const how = await cancelSubmission(
        { ledger: dbs.ledger, clock: c.clock, logger: c.logger, endpoints, passphrase: c.config.secret, onRemoved, ...cancelTestHooks(c.config, period.environment) },
        id,
      );
      const what = {
        'td-written': 'cancelled: TD file written',
        'td-taken':
          'cancelled: an interrupted cancel had started its TD file, and the receiver has taken the GO since (with the TD, if it reached it: then it answers nothing; if it took the GO first, its replies will make the period need attention)',
        'cancelled-locally': leftovers(removed),
        'already-cancelled': 'was already cancelled',
      }[how];
      console.log(`submission #${id} ${what}`);
      if (how !== 'already-cancelled') {
        console.log(`${period.flow} ${period.period} (${period.environment}): "maillon status" says what its receivers hold now and what to do.`);
      }
    });
}

/** What a cancel of a submission whose GO was never started says: whether a send of it had left files on the receiver's server, removed now. */
function leftovers(removed: readonly string[] | null): string {
  if (removed === null) return 'cancelled (its GO was never started: nothing reached the receiver)';
  if (removed.length === 0) return "cancelled (its GO was never started: an earlier send had left nothing of it in the receiver's IN folder)";
  return `cancelled (its GO was never started, so the receiver never took its files); removed from the receiver's IN folder what an earlier send had left there: ${removed.join(', ')}`;
}
