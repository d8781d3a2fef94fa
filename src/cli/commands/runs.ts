import type { Command } from 'commander';
import { recentRuns } from '../../ledger/runs.js';
import type { CliContext } from '../context.js';
import { positiveInt } from '../numberOption.js';

/** `maillon runs`: the recent runs, one line each. */
export function registerRuns(program: Command, ctx: () => CliContext): void {
  program
    .command('runs')
    .description('list recent runs, newest first')
    .option('--limit <n>', 'how many', positiveInt('--limit', 100_000), 20)
    .option('--json', 'print as JSON')
    .action(async (opts: { limit: number; json?: boolean }) => {
      const c = ctx();
      const runs = await recentRuns((await c.databases()).ledger, opts.limit);
      if (opts.json) {
        console.log(JSON.stringify(runs, null, 2));
        return;
      }
      if (runs.length === 0) console.log('no runs yet');
      for (const r of runs) {
        const counts = r.extracted === null ? '' : `extracted ${r.extracted} emitted ${r.emitted} quarantined ${r.quarantined}`;
        const when = r.startedAt.toISOString().slice(0, 19).replace('T', ' ');
        const state = `${r.state}${r.dryRun ? ' (dry)' : ''}`;
        console.log(`#${String(r.runId).padEnd(5)} ${when}Z ${r.flow.padEnd(24)} ${r.period.padEnd(8)} ${r.environment} ${state.padEnd(16)} ${counts}${r.error ? ` error: ${r.error}` : ''}`);
      }
    });
}
