import type { Command } from 'commander';
import { generateDataset } from '../../generate/generateDataset.js';
import { UsageError } from '../../errors/errors.js';
import { isLocalDate, type LocalDate, parseLocalDate } from '../../period/localDate.js';
import { parsePeriod } from '../../period/period.js';
import { prepareOutputFolder } from '../../system/outputFile.js';
import type { CliContext } from '../context.js';
import { positiveInt } from '../numberOption.js';
import { startProgress } from '../progress.js';

/** `maillon generate`: writes a synthetic, deterministic dossier CSV folder. */
export function registerGenerate(program: Command, ctx: () => CliContext): void {
  program
    .command('generate')
    .description('write a synthetic dossier CSV folder (deterministic for a seed)')
    .requiredOption('--affiliates <n>', 'number of affiliates', positiveInt('--affiliates'))
    .requiredOption('--out <folder>', 'folder to write')
    .option('--seed <n>', 'random seed', positiveInt('--seed'), 1)
    .option('--invalid-rate <r>', 'fraction of affiliates with domain errors (0..1)', rate, 0)
    .option('--last-quarter <key>', 'last quarter with contributions (the data covers 8 quarters)', '2026-Q4')
    .option('--last-request-day <day>', "last day with incapacity requests (the week up to it has them; default: the last quarter's last day)")
    .action(async (opts: { affiliates: number; out: string; seed: number; invalidRate: number; lastQuarter: string; lastRequestDay?: string }) => {
      const c = ctx();
      const lastQuarter = parsePeriodOption(opts.lastQuarter);
      const lastRequestDay = opts.lastRequestDay === undefined ? undefined : dayOption(opts.lastRequestDay);
      await prepareOutputFolder(opts.out);
      const progress = startProgress(c.interactive, 'generate', opts.affiliates);
      const { lastRequestDay: _text, ...rest } = opts;
      const result = await generateDataset({ ...rest, lastQuarter, ...(lastRequestDay ? { lastRequestDay } : {}), onProgress: (n) => progress.update(n) });
      progress.stop(opts.affiliates);
      for (const [file, n] of Object.entries(result.rows)) console.log(`${file.padEnd(28)} ${String(n).padStart(10)} rows`);
      console.log(`wrote ${opts.affiliates} affiliates (${result.invalidAffiliates} with domain errors) to ${opts.out}`);
    });
}

function parsePeriodOption(key: string) {
  try {
    const p = parsePeriod(key);
    if (p.kind !== 'quarter') throw new Error('expected a quarter such as 2026-Q4');
    return p;
  } catch (err) {
    throw new UsageError(`--last-quarter: ${(err as Error).message}`);
  }
}

function dayOption(text: string): LocalDate {
  if (!isLocalDate(text)) throw new UsageError(`--last-request-day takes a calendar day such as 2026-12-31, got "${text}"`);
  return parseLocalDate(text);
}

function rate(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--invalid-rate takes a fraction between 0 and 1, got "${text}"`);
  return n;
}
