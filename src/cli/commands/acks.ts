import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ingestReplies, type ReplyOutcome } from '../../ack/ingestReplies.js';
import { checkRereads } from '../../ack/rereadRequest.js';
import { type Environment, requireReceiversFile } from '../../config/config.js';
import { parseCertificates } from '../../sign/cms.js';
import { loadEndpoints } from '../../transport/receivers.js';
import type { CliContext } from '../context.js';
import { escapeControls } from '../../system/escapeControls.js';
import { environmentOption } from '../resolve.js';

/**
 * Reads the replies of an environment (shared by `maillon acks`, `maillon send` and `maillon serve`);
 * each outcome is pushed to `outcomes` as it is known, so that a pass ending with an error still
 * tells what it applied.
 */
export async function readAcks(c: CliContext, environment: Environment, outcomes: ReplyOutcome[] = [], reread?: ReadonlySet<string>): Promise<ReplyOutcome[]> {
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
      maxUnzippedBytes: c.config.maxUnzippedBytes,
      evidenceDir: c.config.evidence,
      ...(c.config.trustStore ? { trustStore: parseCertificates(await fs.readFile(c.config.trustStore, 'utf8')) } : {}),
      ...(reread ? { reread } : {}),
    },
    environment,
    outcomes,
  );
}

/** Prints reply outcomes for a person; the names come from the receivers' server, shown escaped. */
export function printAcks(outcomes: readonly ReplyOutcome[]): void {
  const fresh = outcomes.filter((o) => o.result !== 'already-processed');
  if (fresh.length === 0) console.log('no new replies');
  for (const o of fresh) {
    console.log(`${o.result.padEnd(10)} ${escapeControls(o.name.slice(0, 120))}${o.reason ? `: ${escapeControls(o.reason)}` : ''}`);
    if (o.evidence) console.log(`  warning: ${escapeControls(o.evidence)}`);
  }
}

/**
 * The exit code a pass's outcomes call for: 12 when a reply was set aside or in conflict (told
 * once, while a folder that failed fails again at the next pass: 12 wins), else 11 when a folder
 * could not be read (2 when only because of the configuration: its key), else none.
 */
export function acksExitCode(outcomes: readonly ReplyOutcome[]): number | undefined {
  if (outcomes.some((o) => o.result === 'set_aside' || o.result === 'conflict')) return 12;
  const failed = outcomes.filter((o) => o.result === 'folder_failed');
  if (failed.some((o) => o.cause !== 'configuration')) return 11;
  return failed.length > 0 ? 2 : undefined;
}

/** `maillon acks`: reads the receivers' replies (ACRF, NOTI) and applies them to the ledger. */
export function registerAcks(program: Command, ctx: () => CliContext): void {
  program
    .command('acks')
    .description('read the ACRF and NOTI replies of the receivers and update the ledger')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .option('--json', 'print the outcome as JSON')
    .option('--reread <name>', 'read again a reply set aside, by its name (repeat for several)', (name: string, names: string[]) => [...names, name], [] as string[])
    .action(async (opts: { env?: string; json?: boolean; reread: string[] }) => {
      const c = ctx();
      const environment = environmentOption(c.config, opts.env);
      const reread = opts.reread.length > 0 ? await checkRereads((await c.databases()).ledger, opts.reread) : undefined;
      const outcomes: ReplyOutcome[] = [];
      try {
        await readAcks(c, environment, outcomes, reread);
      } catch (err) {
        // The pass ended (the database lost…): what it applied before is told all the same.
        if (opts.json) console.log(JSON.stringify(outcomes, null, 2));
        else if (outcomes.some((o) => o.result !== 'already-processed')) printAcks(outcomes);
        throw err;
      }
      if (opts.json) console.log(JSON.stringify(outcomes, null, 2));
      else printAcks(outcomes);
      // A reply set aside or not believed (conflict) needs an operator's eyes; so does a folder not read.
      const code = acksExitCode(outcomes);
      if (code !== undefined) process.exitCode = code;
    });
}
