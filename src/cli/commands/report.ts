import type { Command } from 'commander';
import { parseEnvironment } from '../../config/config.js';
import { buildReport, type Report } from '../../reconcile/report.js';
import type { CliContext } from '../context.js';
import { findPipeline, periodFor } from '../resolve.js';

/** `maillon report <flow> --period <key>`: the reconciliation report of the latest run. */
export function registerReport(program: Command, ctx: () => CliContext): void {
  program
    .command('report')
    .argument('<flow>', 'flow id')
    .requiredOption('--period <key>', 'period key')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .option('--json', 'print the report as JSON')
    .description('show the reconciliation report of the latest successful run')
    .action(async (flow: string, opts: { period: string; env?: string; json?: boolean }) => {
      const c = ctx();
      const pipeline = findPipeline(flow);
      periodFor(pipeline, opts.period);
      const env = opts.env ? parseEnvironment(opts.env) : c.config.environment;
      const report = await buildReport((await c.databases()).ledger, pipeline, opts.period, env, c.clock.now());
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else printReport(report);
      if (report.checks.some((k) => !k.ok)) process.exitCode = 10;
    });
}

/** Prints a report for a person at a terminal. */
export function printReport(r: Report): void {
  console.log(`${r.flow} ${r.period} env ${r.environment} — run #${r.runId}, as of ${r.asOf}`);
  console.log(`  extracted ${r.counts.extracted}, emitted ${r.counts.emitted}, quarantined ${r.counts.quarantined}`);
  for (const [rule, n] of Object.entries(r.quarantineByRule)) console.log(`    ${String(n).padStart(8)}  ${rule}`);
  for (const f of r.files) console.log(`  ${f.name}  ${f.records} records  ${f.bytes} bytes  to ${f.receiver}  sha256 ${f.sha256}`);
  const days = r.daysRemaining >= 0 ? `${r.daysRemaining} days remaining` : `${-r.daysRemaining} days past`;
  console.log(`  deadline ${r.deadline} (${days})`);
  for (const [name, value] of Object.entries(r.facts ?? {})) console.log(`  ${name}: ${String(value)}`);
  for (const k of r.checks) console.log(`  [${k.ok ? 'ok' : 'FAILED'}] ${k.name}: ${k.detail}`);
}
