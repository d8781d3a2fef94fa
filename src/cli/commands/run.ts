import type { Command } from 'commander';
import { parseEnvironment, requireSender } from '../../config/config.js';
import { runPipeline, type RunResult } from '../../engine/runPipeline.js';
import { formatPeriod } from '../../period/period.js';
import type { CliContext } from '../context.js';
import { SCHEMAS_DIR } from '../context.js';
import { startProgress } from '../progress.js';
import { findPipeline, parseInstant, periodFor } from '../resolve.js';

interface RunOptions {
  period: string;
  asOf?: string;
  env?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** `maillon run <flow> --period <key>`: runs one flow for one period. */
export function registerRun(program: Command, ctx: () => CliContext): void {
  program
    .command('run')
    .argument('<flow>', 'flow id (see "maillon flows")')
    .requiredOption('--period <key>', 'period: 2026-Q3, 2026-07 or 2026')
    .option('--as-of <instant>', 'ISO 8601 instant; payments count up to that day (default: now)')
    .option('--env <R|T|S>', 'environment: R production, T test, S simulation (default MAILLON_ENV)')
    .option('--dry-run', 'render and validate, but write nothing to the outbox and allocate no sequence')
    .option('--json', 'print the result as JSON')
    .description('extract, validate, render and write the files of one flow for one period')
    .action(async (flow: string, opts: RunOptions) => {
      const c = ctx();
      const pipeline = findPipeline(flow);
      const period = periodFor(pipeline, opts.period);
      const environment = opts.env ? parseEnvironment(opts.env) : c.config.environment;
      const sender = requireSender(c.config);
      const asOf = opts.asOf ? parseInstant(opts.asOf) : undefined;
      const dbs = await c.databases();
      const progress = startProgress(c.interactive, `${flow} ${formatPeriod(period)}`);
      const result = await runPipeline(
        {
          ledger: dbs.ledger, dossier: dbs.dossier, clock: c.clock, logger: c.logger, outbox: c.config.outbox, documentsDir: c.config.documents, fund: c.config.fund,
          schemasDir: SCHEMAS_DIR, validator: c.validator(), onProgress: (n) => progress.update(n),
        },
        { pipeline, period, environment, sender, asOf, dryRun: Boolean(opts.dryRun) },
      ).finally(() => progress.stop());
      if (opts.json) console.log(JSON.stringify(result, null, 2));
      else printRun(flow, formatPeriod(period), environment, result);
    });
}

function printRun(flow: string, period: string, env: string, r: RunResult): void {
  const c = r.counts;
  console.log(`${r.dryRun ? 'dry run' : 'run'} #${r.runId} ${flow} ${period} env ${env} as of ${r.asOf.toISOString()}`);
  console.log(`  extracted ${c.extracted} = emitted ${c.emitted} + quarantined ${c.quarantined}`);
  for (const [rule, n] of Object.entries(r.quarantineByRule)) console.log(`  quarantined ${String(n).padStart(8)}  ${rule}`);
  for (const f of r.files) console.log(`  file ${f.path} (${f.records} records, ${f.bytes} bytes, to ${f.receiver})`);
  if (r.dryRun) console.log('  dry run: nothing written to the outbox, no sequence allocated');
  else console.log(`  report: maillon report ${flow} --period ${period} --env ${env}`);
}
