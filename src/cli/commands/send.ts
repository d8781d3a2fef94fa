import type { Command } from 'commander';
import type { ReplyOutcome } from '../../ack/ingestReplies.js';
import { requireReceiversFile } from '../../config/config.js';
import { UsageError } from '../../errors/errors.js';
import { maskPersonalData } from '../../log/maskPersonalData.js';
import { formatPeriod, parsePeriod } from '../../period/period.js';
import { escapeControls } from '../../system/escapeControls.js';
import { loadEndpoints } from '../../transport/receivers.js';
import { type SendOutcome, sendSubmissions } from '../../transport/sendSubmissions.js';
import type { CliContext } from '../context.js';
import { describeFailure } from '../failure.js';
import { environmentOption, findPipeline, periodClosedOn, periodFor } from '../resolve.js';
import { deliveryTestHooks, hasTestHooks } from '../testHooks.js';
import { acksExitCode, printAcks, readAcks } from './acks.js';

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
      const period = sendFilterPeriod(opts.flow, opts.period);
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
        { flow: opts.flow, period, environment: filterEnv },
      );
      if (opts.json) console.log(JSON.stringify(outcomes, null, 2));
      else if (outcomes.length === 0) console.log('nothing to send');
      else for (const o of outcomes) console.log(`${o.result.padEnd(14)} #${o.submissionId} ${o.go} to ${o.receiver}${o.error ? `: ${o.error}` : o.reason ? `: ${o.reason}` : ''}`);
      const delivery = deliveryExitCode(outcomes);
      if (delivery !== undefined) process.exitCode = delivery;
      if (opts.acks !== false) {
        // The replies of earlier submissions (and of these, if the receiver is quick) come back now.
        const env = filterEnv ?? c.config.environment;
        const replies: ReplyOutcome[] = [];
        try {
          await readAcks(c, env, replies);
          tellReplies(replies, Boolean(opts.json));
          const code = sendExitCode(delivery, acksExitCode(replies));
          if (code !== undefined) process.exitCode = code;
        } catch (err) {
          if (opts.json || replies.some((o) => o.result !== 'already-processed')) tellReplies(replies, Boolean(opts.json));
          // Told as main.ts tells a command's failure: a lost database is exit 6 with its sentence, the message masked.
          const failure = describeFailure(err, 'send', c.logger);
          process.stderr.write(`maillon: the submissions above were handled, but the replies could not be read: ${failure.message}\n`);
          process.exitCode = replyFailureExitCode(delivery, failure.exitCode);
        }
      }
    });
}

/**
 * The period key to deliver, checked as every command checks it: an unknown flow is exit 4
 * (naming the known ones), a key that is not a period, or of the wrong kind for the flow, exit 2.
 * Normalised (`2026-q3` is 2026-Q3), since it filters the ledger's keys.
 */
function sendFilterPeriod(flow: string | undefined, key: string | undefined): string | undefined {
  const pipeline = flow === undefined ? undefined : findPipeline(flow);
  if (key === undefined) return undefined;
  if (pipeline) return formatPeriod(periodFor(pipeline, key));
  try {
    return formatPeriod(parsePeriod(key));
  } catch (err) {
    throw new UsageError(`--period: ${(err as Error).message}`);
  }
}

/**
 * A failed delivery (exit 11) before a correction built on a rejected version (exit 8, a ledger
 * conflict), before a configuration problem or a closed period (exit 2): a receiver missing from
 * the receivers file, a submission of a period its receiver no longer accepts.
 */
function deliveryExitCode(outcomes: readonly SendOutcome[]): number | undefined {
  const failed = outcomes.filter((o) => o.result === 'failed');
  if (failed.some((o) => o.cause !== 'configuration')) return 11;
  if (outcomes.some((o) => o.result === 'rejected-base')) return 8;
  if (failed.length > 0 || outcomes.some((o) => o.result === 'closed')) return 2;
  return undefined;
}

/**
 * The command's exit code once the replies are read: a failed delivery (11) first, then the reply
 * pass's as `maillon acks` gives it (12 a reply set aside or in conflict, 11 a reply folder not
 * read), then the delivery's 8 or 2, then the reply pass's 2 (a reply folder whose key cannot be read).
 */
function sendExitCode(delivery: number | undefined, replies: number | undefined): number | undefined {
  if (delivery === 11) return 11;
  if (replies === 12 || replies === 11) return replies;
  return delivery ?? replies;
}

/** The command's exit code when the reply pass failed outright (`failure`: 6 for a lost database…): a failed delivery (11) still first. */
export function replyFailureExitCode(delivery: number | undefined, failure: number): number {
  return delivery === 11 ? 11 : failure;
}

/**
 * The replies for a person (stdout), or with --json (stdout is the delivery outcomes alone) those
 * that need an operator's eyes on stderr: a reply set aside or in conflict, a folder not read.
 */
function tellReplies(replies: readonly ReplyOutcome[], json: boolean): void {
  if (!json) return printAcks(replies);
  for (const o of replies) {
    const reason = escapeControls(maskPersonalData(o.reason ?? ''));
    const name = escapeControls(o.name.slice(0, 120));
    if (o.result === 'folder_failed') process.stderr.write(`maillon: ${reason}\n`);
    else if (o.result === 'set_aside') process.stderr.write(`maillon: the reply ${name} was set aside: ${reason}\n`);
    else if (o.result === 'conflict') process.stderr.write(`maillon: the reply ${name} is a conflict, not believed: ${reason}\n`);
  }
}
