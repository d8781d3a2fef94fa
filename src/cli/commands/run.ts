import type { Command } from 'commander';
import path from 'node:path';
import { PIPELINES } from '../../../pipelines/index.js';
import { requireSender } from '../../config/config.js';
import { DOCUMENTS_ARCHIVE } from '../../engine/documents.js';
import type { AnyPipeline } from '../../engine/pipeline.js';
import { runPipeline, type RunDeps, type RunResult } from '../../engine/runPipeline.js';
import { UsageError } from '../../errors/errors.js';
import { formatPeriod, type Period, parsePeriod } from '../../period/period.js';
import type { CliContext } from '../context.js';
import { SCHEMAS_DIR } from '../context.js';
import { describeFailure, mostSevereExitCode } from '../failure.js';
import { commandHint } from '../hint.js';
import { startProgress } from '../progress.js';
import { environmentOption, findPipeline, parseInstant, periodFor } from '../resolve.js';
import { runTestHooks } from '../testHooks.js';

interface RunOptions {
  period: string;
  all?: boolean;
  asOf?: string;
  env?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** The run dependencies of a CLI context. */
export async function cliRunDeps(c: CliContext): Promise<Omit<RunDeps, 'onProgress'>> {
  const dbs = await c.databases();
  return {
    ledger: dbs.ledger,
    dossier: dbs.dossier,
    clock: c.clock,
    logger: c.logger,
    outbox: c.config.outbox,
    documentsDir: c.config.documents,
    fund: c.config.fund,
    schemasDir: SCHEMAS_DIR,
    validator: c.validator(),
    // pkijs and node-forge are loaded only when a signing identity is configured.
    signing: c.config.signing ? await (await import('../../sign/signingIdentity.js')).loadSigning(c.config.signing) : null,
  };
}

/** `maillon run <flow> --period <key>` or `maillon run --all --period <key>`. */
export function registerRun(program: Command, ctx: () => CliContext): void {
  program
    .command('run')
    .argument('[flow]', 'flow id (see "maillon flows")')
    .requiredOption('--period <key>', 'period: 2026-Q3, 2026-07, 2026 or 2026-07-14')
    .option('--all', 'run every flow whose period kind matches the key')
    .option('--as-of <instant>', 'ISO 8601 instant; payments count up to that day (default: now)')
    .option('--env <R|T|S>', 'environment: R production, T test, S simulation (default MAILLON_ENV)')
    .option('--dry-run', 'render and check, but write nothing to the outbox and allocate no sequence')
    .option('--json', 'print the result as JSON')
    .description('extract, validate, render and write the files of one flow (or all flows) for one period')
    .action(async (flow: string | undefined, opts: RunOptions) => {
      const c = ctx();
      const pipelines = selectPipelines(flow, opts);
      const environment = environmentOption(c.config, opts.env);
      const sender = requireSender(c.config);
      const asOf = opts.asOf ? parseInstant(opts.asOf) : undefined;
      const deps = { ...(await cliRunDeps(c)), ...runTestHooks(c.config, environment) };
      const results: Record<string, RunResult | { error: string }> = {};
      const failed: number[] = [];
      for (const pipeline of pipelines) {
        const period = periodFor(pipeline, opts.period);
        const progress = startProgress(c.interactive, `${pipeline.id} ${formatPeriod(period)}`);
        try {
          const r = await runPipeline({ ...deps, onProgress: (n) => progress.update(n) }, { pipeline, period, environment, sender, asOf, dryRun: Boolean(opts.dryRun) });
          results[pipeline.id] = r;
          if (!opts.json) printRun(pipeline.id, formatPeriod(period), environment, r);
        } catch (err) {
          // With --all, one failing flow does not stop the others; the exit code still reports it,
          // told as main.ts tells a command's failure (a lost database is exit 6, messages masked).
          if (!opts.all) throw err;
          const failure = describeFailure(err, 'run', c.logger);
          failed.push(failure.exitCode);
          results[pipeline.id] = { error: failure.message };
          process.stderr.write(`maillon: ${pipeline.id} ${formatPeriod(period)} failed: ${failure.message}\n`);
        } finally {
          progress.stop();
        }
      }
      if (opts.json) console.log(JSON.stringify(opts.all ? results : results[pipelines[0]!.id], null, 2));
      // Several flows failed: the most severe code (a lost database before all), not the first one's.
      const code = mostSevereExitCode(failed);
      if (code !== undefined) process.exitCode = code;
    });
}

function selectPipelines(flow: string | undefined, opts: RunOptions): AnyPipeline[] {
  if (opts.all && flow) throw new UsageError('Give either a flow or --all, not both.');
  if (!opts.all && !flow) throw new UsageError('Name the flow to run (see "maillon flows"), or use --all.');
  if (flow) return [findPipeline(flow)];
  let period: Period;
  try {
    period = parsePeriod(opts.period);
  } catch (err) {
    throw new UsageError(`--period: ${(err as Error).message}`);
  }
  return PIPELINES.filter((p) => p.periodKind === period.kind);
}

/**
 * The run's counts as the invariant they satisfy: extracted = emitted + quarantined, and in a
 * rerun extracted + cancelled = emitted + quarantined + unchanged (the report checks the same).
 */
export function countsLine(c: RunResult['counts'], rerun = c.unchanged !== undefined || c.cancelled !== undefined): string {
  if (!rerun) return `extracted ${c.extracted} = emitted ${c.emitted} + quarantined ${c.quarantined}`;
  return `extracted ${c.extracted} + cancelled ${c.cancelled ?? 0} = emitted ${c.emitted} + quarantined ${c.quarantined} + unchanged ${c.unchanged ?? 0}`;
}

/** What happens to a record held by the receiver and quarantined now: the rerun's plan and its summary say the same. */
export const KEPT = 'quarantined, neither corrected nor cancelled: the receiver keeps what it holds until the dossier is corrected';

const SHOWN = 20;

/** Source keys for a terminal: the first 20, then how many more. */
export function keyList(keys: readonly string[]): string {
  return `${keys.slice(0, SHOWN).join(', ')}${keys.length > SHOWN ? `, … (${keys.length - SHOWN} more)` : ''}`;
}

/** Prints one run for a person at a terminal. */
export function printRun(flow: string, period: string, env: string, r: RunResult): void {
  const c = r.counts;
  console.log(`${r.dryRun ? 'dry run' : 'run'} #${r.runId} ${flow} ${period} env ${env} as of ${r.asOf.toISOString()}`);
  console.log(`  ${countsLine(c, r.plan !== null)}`);
  for (const [rule, n] of Object.entries(r.quarantineByRule)) console.log(`  quarantined ${String(n).padStart(8)}  ${rule}`);
  if (r.plan && r.plan.kept.length > 0) console.log(`    held ${String(r.plan.kept.length).padStart(10)}  ${KEPT}: ${keyList(r.plan.kept)}`);
  for (const f of r.files) console.log(`  file ${f.path} (${f.records} records, ${f.bytes} bytes, to ${f.receiver})`);
  if (r.documents.count > 0) console.log(`  ${r.documents.count} printable documents${r.documents.folder ? ` in ${path.join(r.documents.folder, DOCUMENTS_ARCHIVE)}` : ''}`);
  for (const [name, value] of Object.entries(r.facts ?? {})) console.log(`  ${name}: ${String(value)}`);
  if (r.dryRun) console.log('  dry run: nothing written to the outbox, no sequence allocated');
  if (r.notice) console.log(`  note: ${r.notice}`);
  else if (!r.dryRun) console.log(`  report: ${commandHint()} report ${flow} --period ${period} --env ${env}`);
}
