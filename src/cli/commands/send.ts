import type { Command } from 'commander';
import type { ReplyOutcome } from '../../ack/ingestReplies.js';
import { requireReceiversFile } from '../../config/config.js';
import { MaillonError } from '../../errors/errors.js';
import { loadEndpoints } from '../../transport/receivers.js';
import { sendSubmissions } from '../../transport/sendSubmissions.js';
import type { CliContext } from '../context.js';
import { environmentOption, periodClosedOn } from '../resolve.js';
import { deliveryTestHooks, hasTestHooks } from '../testHooks.js';
import { printAcks, readAcks } from './acks.js';

/** `maillon send`: delivers the written submissions over SFTP, exactly once. */
export function registerSend(program: Command, ctx: () => CliContext): void {
  program
    .command('send')
    .description('deliver every written submission over SFTP (data files, then the GO file), exactly once')
    .option('--flow <id>', 'only this flow')
    .option('--period <key>', 'only this period')
    .option('--env <R|T|S>', 'only this environment')
    .option('--json', 'print the outcome as JSON')
    .option('--no-acks', 'do not read the replies afterwards')
    .action(async (opts: { flow?: string; period?: string; env?: string; json?: boolean; acks?: boolean }) => {
      const c = ctx();
      // Without --env every environment is sent, unless a test hook is set: then MAILLON_ENV only, which is never R.
      const filterEnv = opts.env || hasTestHooks(c.config) ? environmentOption(c.config, opts.env) : undefined;
      const endpoints = loadEndpoints(requireReceiversFile(c.config));
      const dbs = await c.databases();
      const outcomes = await sendSubmissions(
        {
          ledger: dbs.ledger,
          clock: c.clock,
          logger: c.logger,
          endpoints,
          passphrase: c.config.secret,
          closedOn: periodClosedOn,
          ...deliveryTestHooks(c.config, filterEnv ?? 'R'),
        },
        { flow: opts.flow, period: opts.period, environment: filterEnv },
      );
      if (opts.json) console.log(JSON.stringify(outcomes, null, 2));
      else if (outcomes.length === 0) console.log('nothing to send');
      else for (const o of outcomes) console.log(`${o.result.padEnd(14)} #${o.submissionId} ${o.go} to ${o.receiver}${o.error ? `: ${o.error}` : o.reason ? `: ${o.reason}` : ''}`);
      // A failed delivery (exit 11) before a correction built on a rejected version (exit 8, a ledger
      // conflict), before a configuration problem or a closed period (exit 2): a receiver missing from
      // the receivers file, a submission of a period its receiver no longer accepts.
      const failed = outcomes.filter((o) => o.result === 'failed');
      if (failed.some((o) => o.cause !== 'configuration')) process.exitCode = 11;
      else if (outcomes.some((o) => o.result === 'rejected-base')) process.exitCode = 8;
      else if (failed.length > 0 || outcomes.some((o) => o.result === 'closed')) process.exitCode = 2;
      if (opts.acks !== false) {
        // The replies of earlier submissions (and of these, if the receiver is quick) come back now.
        const env = filterEnv ?? c.config.environment;
        const replies: ReplyOutcome[] = [];
        try {
          await readAcks(c, env, replies);
          if (!opts.json) printAcks(replies);
          else for (const o of replies.filter((r) => r.result === 'folder_failed')) process.stderr.write(`maillon: ${o.reason}\n`);
          // A reply folder not read fails the command as a delivery does (its message is printed above).
          if (replies.some((o) => o.result === 'folder_failed' && o.cause !== 'configuration')) process.exitCode = 11;
          else if (replies.some((o) => o.result === 'folder_failed') && !process.exitCode) process.exitCode = 2;
        } catch (err) {
          if (!opts.json && replies.some((o) => o.result !== 'already-processed')) printAcks(replies);
          process.stderr.write(`maillon: the submissions above were handled, but the replies could not be read: ${(err as Error).message}\n`);
          process.exitCode = err instanceof MaillonError ? err.exitCode : 1;
        }
      }
    });
}
