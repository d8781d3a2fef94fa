import readline from 'node:readline/promises';
import type { Command } from 'commander';
import { requireSender } from '../../config/config.js';
import { runBackfill } from '../../engine/backfill.js';
import { cancelsVanished } from '../../engine/rerunVersion.js';
import { runPipeline, type RunResult } from '../../engine/runPipeline.js';
import { UsageError } from '../../errors/errors.js';
import { formatPeriod } from '../../period/period.js';
import type { CliContext } from '../context.js';
import { environmentOption, findPipeline, parseInstant, periodFor } from '../resolve.js';
import { runTestHooks } from '../testHooks.js';
import { cliRunDeps, countsLine, KEPT, keyList, printRun } from './run.js';

interface RerunOptions {
  period: string;
  reason: string;
  env?: string;
  asOf?: string;
  dryRun?: boolean;
  full?: boolean;
  yes?: boolean;
  receiverHoldsNothing?: string;
}

/**
 * How a rerun sends its records: a correction of single records, all of them again (--full), the
 * whole file replaced, or the whole file sent again with the cancellation of each record it no
 * longer has (Belcotax's sending of grouped corrections).
 */
type RerunMode = 'records' | 'full' | 'whole-file' | 'whole-file-cancelling';

/**
 * The plan as the run without --dry-run carries it out: each line says what is done with its
 * records in this mode, and the counts are the rerun's invariant, as the report checks it.
 */
function printPlan(r: Pick<RunResult, 'plan' | 'counts'>, mode: RerunMode): void {
  const p = r.plan!;
  const list = keyList;
  const line = (label: string, n: number, what: string, keys: string[] = []): void => console.log(`  ${label.padEnd(11)} ${String(n).padStart(7)}  ${what.padEnd(44)} ${list(keys)}`.trimEnd());
  console.log(`compared with what the receivers hold (last version: run #${p.previousRunId}):`);
  if (mode === 'whole-file' || mode === 'whole-file-cancelling') {
    const cancelling = mode === 'whole-file-cancelling';
    console.log(
      cancelling
        ? '  the whole period is sent again: the new file carries every record of the period, and cancels each record held that it no longer has'
        : '  the whole file is replaced: the new file carries every record of the period, the one held is set aside',
    );
    line('new', p.added.length, 'in the new file, not in the one held', p.added);
    line('changed', p.changed.length, 'in the new file, with other values', p.changed);
    line('unchanged', p.unchanged, 'in the new file again, the same');
    line('vanished', p.vanished.length, cancelling ? 'held, sent in the new file as cancellations' : 'in the file held, left out of the new one', p.vanished);
  } else {
    line('new', p.added.length, 'sent as originals', p.added);
    line('changed', p.changed.length, 'sent as replacements', p.changed);
    line('vanished', p.vanished.length, 'sent as cancellations', p.vanished);
    line('unchanged', p.unchanged, mode === 'full' ? 'sent again as replacements (--full)' : 'not sent');
  }
  // Counted in vanished above (a cancellation at the old receiver), and in new when the new receiver holds no copy yet.
  if (p.moved.length > 0) line('moved', p.moved.length, 'to another receiver: in vanished (and new)', p.moved);
  line('quarantined', r.counts.quarantined, 'not sent');
  if (p.kept.length > 0) line('  held', p.kept.length, KEPT, p.kept);
  console.log(`  ${countsLine(r.counts, true)}`);
}

/** The ids of --receiver-holds-nothing (none when absent). */
function submissionIds(list: string | undefined): number[] {
  if (list === undefined) return [];
  return list.split(',').map((part) => {
    if (!/^\s*[1-9][0-9]{0,15}\s*$/.test(part))
      throw new UsageError(`--receiver-holds-nothing takes submission ids separated by commas (as maillon status shows them, without #); "${part.slice(0, 20)}" is not one.`);
    return Number(part);
  });
}

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** `maillon rerun` and `maillon backfill`. */
export function registerRerun(program: Command, ctx: () => CliContext): void {
  program
    .command('rerun')
    .argument('<flow>', 'flow id')
    .requiredOption('--period <key>', 'period key')
    .requiredOption('--reason <text>', 'why (kept in the ledger with who ran it)')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .option('--as-of <instant>', 'ISO 8601 instant (default: now)')
    .option('--dry-run', 'show the plan only')
    .option('--full', 'send the whole period again as a replacement')
    .option('--yes', 'do not ask for confirmation (scripts)')
    .option('--receiver-holds-nothing <ids>', 'submissions cancelled after their GO and answered since (comma-separated ids) that their receiver says it does not hold: send their records again')
    .description('recompute a period already sent, show what changed, and send a correction (new, changed, vanished records)')
    .action(async (flow: string, opts: RerunOptions) => {
      const c = ctx();
      const pipeline = findPipeline(flow);
      const period = periodFor(pipeline, opts.period);
      const environment = environmentOption(c.config, opts.env);
      const sender = requireSender(c.config);
      if (!opts.reason.trim()) throw new UsageError('--reason must say why the period is sent again.');
      const hooks = runTestHooks(c.config, environment);
      const deps = { ...(await cliRunDeps(c)), ...hooks };
      const asOf = opts.asOf ? parseInstant(opts.asOf) : c.clock.now();
      const request = { pipeline, period, environment, sender, asOf };
      // Flows replaced whole (aggregates, Belcotax) send the whole period again when anything changed.
      const whole = pipeline.output.kind === 'csvTables' || pipeline.corrections === 'whole-file';
      const mode: RerunMode = whole ? (cancelsVanished(pipeline) ? 'whole-file-cancelling' : 'whole-file') : opts.full ? 'full' : 'records';
      const correction = { reason: opts.reason, full: Boolean(opts.full) || whole, receiverHoldsNothing: submissionIds(opts.receiverHoldsNothing) };
      const identical = (r: Pick<RunResult, 'plan'>): boolean => {
        const p = r.plan!;
        if (p.added.length + p.changed.length + p.vanished.length > 0 || opts.full) return false;
        console.log(`identical to what was sent (run #${p.previousRunId}): nothing sent`);
        // Nothing is written, so no run records these quarantines: say it, or they would go unseen.
        if (p.kept.length > 0)
          console.log(
            `but ${p.kept.length} record(s) the receivers hold are quarantined now (${keyList(p.kept)}): they stay as the receivers hold them, and the period's report does not show them; ` +
              'correct the dossier, then rerun',
          );
        return true;
      };
      if (opts.dryRun) {
        const plan = await runPipeline(deps, { ...request, dryRun: true, correction });
        printPlan(plan, mode);
        identical(plan);
        return;
      }
      // The run is computed once and held, its transaction open, while its plan is shown and
      // confirmed: what is sent is what was shown. When the dossier changed meanwhile, the plan is
      // computed again, and refused (exit 14) if it is not the one confirmed.
      const refusal: { error?: Error } = {};
      const held = await runPipeline(deps, {
        ...request,
        dryRun: false,
        correction,
        confirmPlan: async (shown) => {
          printPlan(shown, mode);
          if (identical(shown)) return false;
          if (!opts.yes) {
            if (!process.stdin.isTTY) {
              refusal.error = new UsageError('Confirm the correction with --yes when running without a terminal.');
              return false;
            }
            const what = { records: 'correction', full: 'full replacement', 'whole-file': 'replacement of the whole file', 'whole-file-cancelling': 'correction of the whole period' }[mode];
            if (!(await confirm(`Send this ${what} of ${flow} ${formatPeriod(period)} (${environment})? [y/N] `))) {
              console.log('nothing sent');
              return false;
            }
          }
          await hooks.onStep?.('after-plan');
          return true;
        },
      });
      if (refusal.error) throw refusal.error;
      let result = held;
      if (held.stale) {
        console.log('the dossier changed since this plan was computed: computing it again');
        result = await runPipeline(deps, { ...request, dryRun: false, correction: { ...correction, expectedPlan: held.plan!.digest } });
      }
      if (result.dryRun) return;
      printRun(flow, formatPeriod(period), environment, result);
      console.log('deliver it with: maillon send');
    });

  program
    .command('backfill')
    .argument('<flow>', 'flow id')
    .requiredOption('--from <key>', 'first period')
    .requiredOption('--to <key>', 'last period')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .description('run a flow for every complete period of a range that no receiver holds (never run, failed, cancelled, rejected, given up); the others are left alone: see rerun')
    .action(async (flow: string, opts: { from: string; to: string; env?: string }) => {
      const c = ctx();
      const pipeline = findPipeline(flow);
      const from = periodFor(pipeline, opts.from);
      const to = periodFor(pipeline, opts.to);
      if (from.start > to.start) throw new UsageError('--from comes after --to.');
      const environment = environmentOption(c.config, opts.env);
      const sender = requireSender(c.config);
      await runBackfill(await cliRunDeps(c), { pipeline, from, to, environment, sender }, (o) => {
        if ('ran' in o) printRun(flow, o.period, environment, o.ran);
        else console.log(`${o.period}: left alone, ${o.leftAlone}`);
      });
    });
}
