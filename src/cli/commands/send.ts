import type { Command } from 'commander';
import { parseEnvironment, requireReceiversFile } from '../../config/config.js';
import { MaillonError } from '../../errors/errors.js';
import { loadEndpoints } from '../../transport/receivers.js';
import { sendSubmissions } from '../../transport/sendSubmissions.js';
import type { CliContext } from '../context.js';
import { deliveryTestHooks } from '../testHooks.js';
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
      const endpoints = loadEndpoints(requireReceiversFile(c.config));
      const dbs = await c.databases();
      const outcomes = await sendSubmissions(
        {
          ledger: dbs.ledger, clock: c.clock, logger: c.logger, endpoints, passphrase: c.config.secret,
          ...deliveryTestHooks(c.config),
        },
        { flow: opts.flow, period: opts.period, environment: opts.env ? parseEnvironment(opts.env) : undefined },
      );
      if (opts.json) console.log(JSON.stringify(outcomes, null, 2));
      else if (outcomes.length === 0) console.log('nothing to send');
      else for (const o of outcomes) console.log(`${o.result.padEnd(14)} #${o.submissionId} ${o.go} to ${o.receiver}${o.error ? `: ${o.error}` : ''}`);
      if (outcomes.some((o) => o.result === 'failed')) process.exitCode = 11;
      if (opts.acks !== false) {
        // The replies of earlier submissions (and of these, if the receiver is quick) come back now.
        const env = opts.env ? parseEnvironment(opts.env) : c.config.environment;
        try {
          const replies = await readAcks(c, env);
          if (!opts.json) printAcks(replies);
        } catch (err) {
          process.stderr.write(`maillon: the submissions above were handled, but the replies could not be read: ${(err as Error).message}\n`);
          process.exitCode = err instanceof MaillonError ? err.exitCode : 1;
        }
      }
    });
}
