import type { Command } from 'commander';
import { UsageError } from '../../errors/errors.js';
import { setFlowPaused } from '../../ledger/flowPauses.js';
import type { CliContext } from '../context.js';
import { environmentOption, findPipeline } from '../resolve.js';

/**
 * `maillon pause <flow> --reason …` and `maillon resume <flow>`: recorded as events of the
 * ledger's chain, honoured by every instance (serve proposes nothing of a paused flow; run,
 * rerun and backfill of it are refused with exit 8).
 */
export function registerPause(program: Command, ctx: () => CliContext): void {
  program
    .command('pause')
    .argument('<flow>', 'flow id (maillon flows)')
    .requiredOption('--reason <text>', 'why (kept in the ledger with who paused it)')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .description('pause a flow: no instance runs it (serve skips it, run refuses it, exit 8) until maillon resume')
    .action(async (flow: string, opts: { reason: string; env?: string }) => {
      const c = ctx();
      findPipeline(flow);
      if (opts.reason.trim() === '') throw new UsageError('--reason must say why the flow is paused (it is kept in the ledger).');
      const env = environmentOption(c.config, opts.env);
      const changed = await setFlowPaused((await c.databases()).ledger, env, flow, true, c.clock.now(), opts.reason.trim());
      console.log(changed ? `${flow} (${env}) paused: no instance runs it until maillon resume ${flow} --env ${env}.` : `${flow} (${env}) was already paused; nothing recorded.`);
    });
}

/** `maillon resume <flow>`. */
export function registerResume(program: Command, ctx: () => CliContext): void {
  program
    .command('resume')
    .argument('<flow>', 'flow id (maillon flows)')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .description('resume a paused flow: serve runs its due periods again from its next tick')
    .action(async (flow: string, opts: { env?: string }) => {
      const c = ctx();
      findPipeline(flow);
      const env = environmentOption(c.config, opts.env);
      const changed = await setFlowPaused((await c.databases()).ledger, env, flow, false, c.clock.now(), null);
      console.log(changed ? `${flow} (${env}) resumed: maillon serve runs its due periods from its next tick.` : `${flow} (${env}) was not paused; nothing recorded.`);
    });
}
