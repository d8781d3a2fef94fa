import type { Command } from 'commander';
import { writeChunks } from '../../reconcile/chunks.js';
import { readReportHead } from '../../reconcile/report.js';
import { readReportLists } from '../../reconcile/runLists.js';
import { HTML_LIST_LIMIT } from '../../reconcile/reportHtml.js';
import { reportChunks } from '../../reconcile/reportStream.js';
import { checkOutputFolder, writeOutputFile } from '../../system/outputFile.js';
import type { CliContext } from '../context.js';
import { environmentOption, findPipeline, periodFor } from '../resolve.js';

export { reportToText } from '../../reconcile/reportText.js';

/** `maillon report <flow> --period <key>`: the reconciliation report of the latest run. */
export function registerReport(program: Command, ctx: () => CliContext): void {
  program
    .command('report')
    .argument('<flow>', 'flow id')
    .requiredOption('--period <key>', 'period key')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .option('--json', 'print the report as JSON (same as --format json)')
    .option('--format <text|json|csv|html>', 'output format', 'text')
    .option('--out <file>', 'write the report to a file (0600, replaced whole if it exists) instead of stdout')
    .description('show the reconciliation report of the period: every version sent, what its receivers hold, the latest successful run that was not cancelled')
    .action(async (flow: string, opts: { period: string; env?: string; json?: boolean; format: string; out?: string }) => {
      const c = ctx();
      const pipeline = findPipeline(flow);
      periodFor(pipeline, opts.period);
      const env = environmentOption(c.config, opts.env);
      const format = opts.json ? 'json' : opts.format;
      // A path that cannot take the report is said before the database is read.
      if (opts.out) await checkOutputFolder(opts.out);
      const dbs = await c.databases();
      const ledger = dbs.ledger;
      const head = await readReportHead(ledger, pipeline, opts.period, env, c.clock.now(), c.config.ackDelayHours, dbs.dossier);
      // The long lists are read through COPY while the report is written: the page keeps the first
      // ones of each (the CSV has them all), the other formats stream them whole.
      const chunks = reportChunks(format, head, readReportLists(ledger, head.runId, format === 'html' ? HTML_LIST_LIMIT : undefined));
      if (opts.out) {
        await writeOutputFile(opts.out, (file) => writeChunks(chunks, file));
        console.log(`report written to ${opts.out}`);
      } else await writeChunks(chunks, process.stdout);
      if (head.checks.some((k) => !k.ok)) process.exitCode = 10;
    });
}
