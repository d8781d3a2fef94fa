import type { Command } from 'commander';
import { PIPELINES } from '../../../pipelines/index.js';

/** `maillon flows`: the flows maillon knows. */
export function registerFlows(program: Command): void {
  program
    .command('flows')
    .description('list the flows, their period kind, purpose code and schedule')
    .action(() => {
      for (const p of PIPELINES) console.log(`${p.id.padEnd(24)} ${p.purpose}  per ${p.periodKind.padEnd(7)}  cron "${p.schedule}" Europe/Brussels  ${p.title}`);
    });
}
