import type { Command } from 'commander';
import { UsageError } from '../../errors/errors.js';
import { simulateReceiver } from '../../simulate/simulateReceiver.js';
import { type CliContext, SCHEMAS_DIR } from '../context.js';
import { nonNegativeInt } from '../numberOption.js';

const list = (text: string | undefined): Set<string> =>
  new Set(
    (text ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

function rate(text: string): number {
  const n = Number(text);
  if (!/^\d*\.?\d+$/.test(text.trim()) || n > 1) throw new UsageError(`A rate is a share between 0 and 1, such as 0.01 for 1 %, not "${text}".`);
  return n;
}

/** `maillon simulate-receiver --root <dir>`: plays the receiving institution on an SFTP folder. */
export function registerSimulateReceiver(program: Command, ctx: () => CliContext): void {
  program
    .command('simulate-receiver')
    .description('play the receiving institution on a folder holding IN, OUT and OUTTEST: check complete submissions, answer ACRF and NOTI')
    .requiredOption('--root <dir>', "the receiver's SFTP root folder")
    .option('--reject-inss <list>', 'comma-separated INSS numbers to refuse (blocking anomaly)')
    .option('--warn-inss <list>', 'comma-separated INSS numbers to accept with a non-blocking anomaly')
    .option('--reject-rate <share>', 'share of the records (0-1, drawn by INSS, the same on every pass) to refuse', rate)
    .option('--warn-rate <share>', 'share of the records (0-1, drawn by INSS) to accept with a non-blocking anomaly', rate)
    .option('--reject-file <list>', 'comma-separated data file names to answer with a negative ACRF')
    .option('--zip-above <bytes>', 'zip replies larger than this (CO files)', nonNegativeInt('--zip-above'))
    .action(async (opts: { root: string; rejectInss?: string; warnInss?: string; rejectRate?: number; warnRate?: number; rejectFile?: string; zipAbove?: number }) => {
      const c = ctx();
      const pass = await simulateReceiver({
        root: opts.root,
        schemasDir: SCHEMAS_DIR,
        validator: c.validator(),
        clock: c.clock,
        rejectInss: list(opts.rejectInss),
        warnInss: list(opts.warnInss),
        rejectFiles: list(opts.rejectFile),
        ...(opts.rejectRate !== undefined ? { rejectRate: opts.rejectRate } : {}),
        ...(opts.warnRate !== undefined ? { warnRate: opts.warnRate } : {}),
        ...(opts.zipAbove !== undefined ? { zipAbove: opts.zipAbove } : {}),
      });
      console.log(`${pass.submissions.length} submission(s) processed, ${pass.replies.length} reply file(s) written`);
      for (const r of pass.replies) console.log(`  ${r}`);
    });
}
