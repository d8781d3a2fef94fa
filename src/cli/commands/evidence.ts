import path from 'node:path';
import type { Command } from 'commander';
import { exportEvidence } from '../../evidence/exportEvidence.js';
import type { CliContext } from '../context.js';
import { environmentOption, findPipeline, periodFor } from '../resolve.js';

/** `maillon evidence <flow> --period <key> [--out file.zip]`: exports the evidence packs of a period. */
export function registerEvidence(program: Command, ctx: () => CliContext): void {
  program
    .command('evidence')
    .argument('<flow>', 'flow id')
    .requiredOption('--period <key>', 'period key')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .option('--out <file.zip>', 'where to write the zip (default ./evidence-<flow>-<period>-<env>.zip)')
    .description('export the evidence packs (bytes sent, SFTP transcript, replies, reconciliation) with a manifest of hashes')
    .action(async (flow: string, opts: { period: string; env?: string; out?: string }) => {
      const c = ctx();
      const pipeline = findPipeline(flow);
      periodFor(pipeline, opts.period);
      const env = environmentOption(c.config, opts.env);
      const out = path.resolve(opts.out ?? `evidence-${flow}-${opts.period}-${env}.zip`);
      const result = await exportEvidence((await c.databases()).ledger, c.config.evidence, flow, opts.period, env, out, c.clock);
      console.log(`${result.packs} evidence pack(s) written to ${result.zip}`);
      for (const folder of result.unanchored) {
        console.log(`  warning: ${folder} is not anchored in the ledger (written before maillon recorded each pack's manifest there): its JSON files are checked against its own manifest.json only`);
      }
      for (const m of result.movedAside) {
        console.log(
          `  warning: ${m.folder} is not this ledger's (a submission of the same id from before a restore, or addenda left without their pack): moved to ${m.to}, and the pack written anew from the ledger`,
        );
      }
      for (const p of result.pending) console.log(`  submission #${p.submissionId} is ${p.state}: its pack is written once it is final`);
    });
}
