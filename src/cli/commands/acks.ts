import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ingestReplies, type ReplyOutcome } from '../../ack/ingestReplies.js';
import { type Environment, requireReceiversFile } from '../../config/config.js';
import { parseCertificates } from '../../sign/cms.js';
import { loadEndpoints } from '../../transport/receivers.js';
import type { CliContext } from '../context.js';
import { escapeControls } from '../../system/escapeControls.js';
import { environmentOption } from '../resolve.js';

/** Reads the replies of an environment (shared by `maillon acks` and `maillon send`). */
export async function readAcks(c: CliContext, environment: Environment): Promise<ReplyOutcome[]> {
  const dbs = await c.databases();
  return ingestReplies(
    {
      ledger: dbs.ledger,
      clock: c.clock,
      logger: c.logger,
      endpoints: loadEndpoints(requireReceiversFile(c.config)),
      passphrase: c.config.secret,
      repliesDir: path.join(c.config.home, 'replies'),
      maxReplyBytes: c.config.maxReplyBytes,
      evidenceDir: c.config.evidence,
      ...(c.config.trustStore ? { trustStore: parseCertificates(await fs.readFile(c.config.trustStore, 'utf8')) } : {}),
    },
    environment,
  );
}

/** Prints reply outcomes for a person; the names come from the receivers' server, shown escaped. */
export function printAcks(outcomes: readonly ReplyOutcome[]): void {
  const fresh = outcomes.filter((o) => o.result !== 'already-processed');
  if (fresh.length === 0) console.log('no new replies');
  for (const o of fresh) console.log(`${o.result.padEnd(10)} ${escapeControls(o.name.slice(0, 120))}${o.reason ? `: ${escapeControls(o.reason)}` : ''}`);
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
      // A reply set aside or not believed (conflict) needs an operator's eyes.
      if (outcomes.some((o) => o.result === 'set_aside' || o.result === 'conflict')) process.exitCode = 12;
    });
}
