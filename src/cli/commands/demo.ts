import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { PIPELINES } from '../../../pipelines/index.js';
import { ingestReplies } from '../../ack/ingestReplies.js';
import { runPipeline } from '../../engine/runPipeline.js';
import { PeriodHeldError } from '../../errors/errors.js';
import { generateDataset } from '../../generate/generateDataset.js';
import { importFolder, recordImport } from '../../import/importFolder.js';
import { formatPeriod, lastCompletePeriod, periodContaining } from '../../period/period.js';
import { buildReport } from '../../reconcile/report.js';
import { reportToHtml } from '../../reconcile/reportHtml.js';
import { startDemoPartner } from '../../simulate/demoPartner.js';
import { simulateReceiver } from '../../simulate/simulateReceiver.js';
import { loadEndpoints } from '../../transport/receivers.js';
import { sendSubmissions } from '../../transport/sendSubmissions.js';
import { type CliContext, SCHEMAS_DIR } from '../context.js';
import { commandHint } from '../hint.js';
import { positiveInt } from '../numberOption.js';
import { startProgress } from '../progress.js';
import { cliRunDeps } from './run.js';

const DEMO_SENDER = '012345';

/**
 * `maillon demo` (npm start): generate and import demo data, run every flow for its last
 * complete period, deliver over SFTP to an embedded server, let the simulated receivers answer
 * (refusing one record to show it), read the replies, write an HTML report per flow.
 */
export function registerDemo(program: Command, ctx: () => CliContext): void {
  program
    .command('demo')
    .description('generate demo data, run every flow, deliver over SFTP to a simulated receiver, read its replies, report')
    .option('--affiliates <n>', 'size of the demo data set', positiveInt('--affiliates'), 2000)
    .action(async (opts: { affiliates: number }) => {
      const c = ctx();
      const sender = c.config.sender ?? DEMO_SENDER;
      const now = c.clock.now();
      // The data covers 8 quarters up to the one holding the last complete month, so that every
      // flow's last complete period (quarter, month, year) has data; the incapacity requests end
      // on the last complete day, the period of the daily flow.
      const quarter = periodContaining('quarter', lastCompletePeriod('month', now).start);
      const yesterday = lastCompletePeriod('day', now).start;
      const folder = path.join(c.config.home, 'demo-data', `${formatPeriod(quarter)}-${yesterday}-${opts.affiliates}`);
      if (!existsSync(path.join(folder, 'affiliates.csv'))) {
        const progress = startProgress(c.interactive, 'generate', opts.affiliates);
        await generateDataset({
          affiliates: opts.affiliates,
          seed: 1,
          out: folder,
          invalidRate: 0.01,
          lastQuarter: quarter,
          lastRequestDay: yesterday,
          onProgress: (n) => progress.update(n),
        });
        progress.stop(opts.affiliates);
      }
      console.log(`demo data: ${folder}`);
      const dbs = await c.databases();
      const started = c.clock.now();
      const imported = await importFolder(dbs.dossier, folder, (b) => process.stderr.write(`${b.file}:${b.line}: ${b.column}: ${b.reason}\n`));
      await recordImport(dbs.ledger, c.clock, started, imported);
      console.log(`imported ${imported.rows} rows into the ${dbs.embedded ? 'embedded ' : ''}PostgreSQL`);
      const deps = await cliRunDeps(c);
      const env = c.config.environment;
      const runs: { pipeline: (typeof PIPELINES)[number]; period: string; runId: number | null }[] = [];
      for (const pipeline of PIPELINES) {
        const period = lastCompletePeriod(pipeline.periodKind, now);
        const progress = startProgress(c.interactive, `${pipeline.id} ${formatPeriod(period)}`);
        // A demo started again finds its periods held by the receivers: they are not written twice.
        const r = await runPipeline({ ...deps, onProgress: (n) => progress.update(n) }, { pipeline, period, environment: env, sender, dryRun: false })
          .catch((err: unknown) => {
            if (err instanceof PeriodHeldError) return null;
            throw err;
          })
          .finally(() => progress.stop());
        if (!r) console.log(`${pipeline.id} ${formatPeriod(period)}: written by an earlier demo, not written again`);
        runs.push({ pipeline, period: formatPeriod(period), runId: r?.runId ?? null });
      }
      const partner = await startDemoPartner(c.config.home);
      try {
        const endpoints = loadEndpoints(partner.receiversFile);
        const sent = await sendSubmissions({ ledger: dbs.ledger, clock: c.clock, logger: c.logger, endpoints, passphrase: () => undefined });
        console.log(`sent ${sent.filter((s) => s.result === 'sent').length} submission(s) over SFTP to the embedded server (127.0.0.1)`);
        // One record of the career file is refused by the simulated INASTI, to show how it is reported.
        const refused = await dbs.ledger.query<{ record_key: string }>(`SELECT record_key FROM maillon.record_outcomes WHERE run_id = $1 AND outcome = 'emitted' ORDER BY ordinal LIMIT 1`, [
          runs[0]!.runId,
        ]);
        const pass = await simulateReceiver({
          root: partner.root,
          schemasDir: SCHEMAS_DIR,
          validator: c.validator(),
          clock: c.clock,
          rejectInss: new Set(refused.rows.map((r) => r.record_key)),
        });
        const replies = await ingestReplies(
          {
            ledger: dbs.ledger,
            clock: c.clock,
            logger: c.logger,
            endpoints,
            passphrase: () => undefined,
            repliesDir: path.join(c.config.home, 'replies'),
            maxReplyBytes: c.config.maxReplyBytes,
            maxUnzippedBytes: c.config.maxUnzippedBytes,
          },
          env,
        );
        console.log(`the simulated receivers answered ${pass.replies.length} replies; ${replies.filter((r) => r.result === 'processed').length} read\n`);
      } finally {
        await partner.close();
      }
      const reports = path.join(c.config.home, 'reports');
      await fs.mkdir(reports, { recursive: true, mode: 0o700 });
      console.log(
        `${'flow'.padEnd(24)} ${'period'.padEnd(10)} ${'extracted'.padStart(9)} ${'emitted'.padStart(8)} ${'quarant.'.padStart(8)} ${'accepted'.padStart(8)} ${'rejected'.padStart(8)}  checks  report`,
      );
      const rejectedIn: string[] = [];
      for (const { pipeline, period } of runs) {
        const report = await buildReport(dbs.ledger, pipeline, period, env, c.clock.now(), c.config.ackDelayHours);
        const html = path.join(reports, `${pipeline.id}-${period}-${env}.html`);
        await fs.writeFile(html, await reportToHtml(report), { mode: 0o600 });
        const ok = report.checks.every((k) => k.ok) ? 'ok' : 'FAILED';
        const d = report.delivery.records;
        console.log(
          `${pipeline.id.padEnd(24)} ${period.padEnd(10)} ${String(report.counts.extracted).padStart(9)} ${String(report.counts.emitted).padStart(8)} ${String(report.counts.quarantined).padStart(8)} ${String(d.accepted + d.acceptedWithAnomalies).padStart(8)} ${String(d.rejected).padStart(8)}  ${ok.padEnd(6)}  ${html}`,
        );
        if (ok !== 'ok') process.exitCode = 10;
        if (d.rejected > 0) rejectedIn.push(pipeline.id);
      }
      if (rejectedIn.length > 0) {
        console.log(
          `\nrejected: on purpose, the simulated receivers refuse the records of one affiliate (the first of the career file), to show how a refusal comes back and is accounted for: ${rejectedIn.join(', ')}. Each report lists the refused record with the receiver's code.`,
        );
      }
      console.log(`\noutbox: ${c.config.outbox}`);
      console.log(`printable attestations: ${c.config.documents}`);
      console.log(`reports: open the HTML files above, or: ${commandHint()} report <flow> --period <key> --env ${env} [--format json|csv|html]`);
    });
}
