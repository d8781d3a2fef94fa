import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PIPELINES } from '../../../pipelines/index.js';
import { runPipeline } from '../../engine/runPipeline.js';
import { generateDataset } from '../../generate/generateDataset.js';
import { importFolder, recordImport } from '../../import/importFolder.js';
import { formatPeriod, lastCompletePeriod, periodContaining } from '../../period/period.js';
import { buildReport } from '../../reconcile/report.js';
import type { CliContext } from '../context.js';
import { startProgress } from '../progress.js';
import { cliRunDeps } from './run.js';

const DEMO_SENDER = '012345';

/** `maillon demo` (npm start): generate and import demo data, run every flow for its last complete period. */
export function registerDemo(program: Command, ctx: () => CliContext): void {
  program
    .command('demo')
    .description('generate demo data, import it and run every flow for its last complete period')
    .option('--affiliates <n>', 'size of the demo data set', (t) => Math.max(1, Number.parseInt(t, 10) || 2000), 2000)
    .action(async (opts: { affiliates: number }) => {
      const c = ctx();
      const sender = c.config.sender ?? DEMO_SENDER;
      const now = c.clock.now();
      // The data covers 8 quarters up to the one holding the last complete month, so that every
      // flow's last complete period (quarter, month, year) has data.
      const quarter = periodContaining('quarter', lastCompletePeriod('month', now).start);
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
      console.log(`imported ${imported.rows} rows into the ${dbs.embedded ? 'embedded ' : ''}PostgreSQL\n`);
      const deps = await cliRunDeps(c);
      const env = c.config.environment;
      console.log(`${'flow'.padEnd(24)} ${'period'.padEnd(8)} ${'extracted'.padStart(9)} ${'emitted'.padStart(8)} ${'quarant.'.padStart(8)} files  checks`);
      for (const pipeline of PIPELINES) {
        const period = lastCompletePeriod(pipeline.periodKind, now);
        const progress = startProgress(c.interactive, `${pipeline.id} ${formatPeriod(period)}`);
        const r = await runPipeline({ ...deps, onProgress: (n) => progress.update(n) }, { pipeline, period, environment: env, sender, dryRun: false }).finally(() => progress.stop());
        const report = await buildReport(dbs.ledger, pipeline, formatPeriod(period), env, c.clock.now());
        const ok = report.checks.every((k) => k.ok) ? 'ok' : 'FAILED';
        console.log(
          `${pipeline.id.padEnd(24)} ${formatPeriod(period).padEnd(8)} ${String(r.counts.extracted).padStart(9)} ${String(r.counts.emitted).padStart(8)} ${String(r.counts.quarantined).padStart(8)} ${String(r.files.length).padStart(5)}  ${ok}`,
        );
        if (ok !== 'ok') process.exitCode = 10;
      }
      console.log(`\noutbox: ${c.config.outbox}`);
      console.log(`printable attestations: ${c.config.documents}`);
      console.log(`reports: maillon report <flow> --period <key> --env ${env} [--json]`);
    });
}
