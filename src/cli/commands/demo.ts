import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { runPipeline } from '../../engine/runPipeline.js';
import { generateDataset } from '../../generate/generateDataset.js';
import { importFolder, recordImport } from '../../import/importFolder.js';
import { formatPeriod, lastCompletePeriod } from '../../period/period.js';
import { buildReport } from '../../reconcile/report.js';
import { type CliContext, SCHEMAS_DIR } from '../context.js';
import { startProgress } from '../progress.js';
import { findPipeline } from '../resolve.js';
import { printReport } from './report.js';

const DEMO_SENDER = '012345';

/** `maillon demo` (npm start): generate, import and run the career flow for the last complete quarter. */
export function registerDemo(program: Command, ctx: () => CliContext): void {
  program
    .command('demo')
    .description('generate demo data, import it and run the career flow for the last complete quarter')
    .option('--affiliates <n>', 'size of the demo data set', (t) => Math.max(1, Number.parseInt(t, 10) || 2000), 2000)
    .action(async (opts: { affiliates: number }) => {
      const c = ctx();
      const sender = c.config.sender ?? DEMO_SENDER;
      const quarter = lastCompletePeriod('quarter', c.clock.now());
      const folder = path.join(c.config.home, 'demo-data', `${formatPeriod(quarter)}-${opts.affiliates}`);
      if (!existsSync(path.join(folder, 'affiliates.csv'))) {
        const progress = startProgress(c.interactive, 'generate', opts.affiliates);
        await generateDataset({ affiliates: opts.affiliates, seed: 1, out: folder, invalidRate: 0.01, lastQuarter: quarter, onProgress: (n) => progress.update(n) });
        progress.stop();
      }
      console.log(`demo data: ${folder}`);
      const dbs = await c.databases();
      const started = c.clock.now();
      const imported = await importFolder(dbs.dossier, folder, (b) => process.stderr.write(`${b.file}:${b.line}: ${b.column}: ${b.reason}\n`));
      await recordImport(dbs.ledger, c.clock, started, imported);
      console.log(`imported ${imported.rows} rows into the ${dbs.embedded ? 'embedded ' : ''}PostgreSQL`);
      const pipeline = findPipeline('career');
      const progress = startProgress(c.interactive, `career ${formatPeriod(quarter)}`);
      await runPipeline(
        { ledger: dbs.ledger, dossier: dbs.dossier, clock: c.clock, logger: c.logger, outbox: c.config.outbox, documentsDir: c.config.documents, fund: c.config.fund, schemasDir: SCHEMAS_DIR, validator: c.validator(), onProgress: (n) => progress.update(n) },
        { pipeline, period: quarter, environment: c.config.environment, sender, dryRun: false },
      ).finally(() => progress.stop());
      const report = await buildReport(dbs.ledger, pipeline, formatPeriod(quarter), c.config.environment, c.clock.now());
      printReport(report);
      console.log(`outbox: ${c.config.outbox}`);
      console.log(`report as JSON: maillon report career --period ${formatPeriod(quarter)} --env ${c.config.environment} --json`);
    });
}
