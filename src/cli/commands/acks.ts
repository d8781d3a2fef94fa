import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ingestReplies, type ReplyOutcome } from '../../ack/ingestReplies.js';
import { type Environment, requireReceiversFile } from '../../config/config.js';
import { parseCertificates } from '../../sign/cms.js';
import { loadEndpoints } from '../../transport/receivers.js';
import type { CliContext } from '../context.js';
import { environmentOption } from '../resolve.js';

/** Reads the replies of an environment (shared by `maillon acks` and `maillon send`). */
export async function readAcks(c: CliContext, environment: Environment): Promise<ReplyOutcome[]> {
  const dbs = await c.databases();
  return ingestReplies(
    {
      ledger: dbs.ledger, clock: c.clock, logger: c.logger, endpoints: loadEndpoints(requireReceiversFile(c.config)), passphrase: c.config.secret,
      repliesDir: path.join(c.config.home, 'replies'), maxReplyBytes: c.config.maxReplyBytes, evidenceDir: c.config.evidence,
      ...(c.config.trustStore ? { trustStore: parseCertificates(await fs.readFile(c.config.trustStore, 'utf8')) } : {}),
    },
    environment,
  );
}

/** Prints reply outcomes for a person. */
export function printAcks(outcomes: readonly ReplyOutcome[]): void {
  const fresh = outcomes.filter((o) => o.result !== 'already-processed');
  if (fresh.length === 0) console.log('no new replies');
  for (const o of fresh) console.log(`${o.result.padEnd(10)} ${o.name.slice(0, 120)}${o.reason ? `: ${o.reason}` : ''}`);
}

/** `maillon acks`: reads the receivers' replies (ACRF, NOTI) and applies them to the ledger. */
export function registerAcks(program: Command, ctx: () => CliContext): void {
  program
    .command('acks')
    .description('read the ACRF and NOTI replies of the receivers and update the ledger')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: { env?: string; json?: boolean }) => {
      const c = ctx();
      const outcomes = await readAcks(c, environmentOption(c.config, opts.env));
      if (opts.json) console.log(JSON.stringify(outcomes, null, 2));
      else printAcks(outcomes);
      if (outcomes.some((o) => o.result === 'set_aside')) process.exitCode = 12;
    });
}
