import type { Command } from 'commander';
import { traceRecord } from '../../trace/traceRecord.js';
import { traceToText } from '../../trace/traceText.js';
import type { CliContext } from '../context.js';

/** `maillon trace <dossier key | INSS>`: every time a record was extracted, and what became of it. */
export function registerTrace(program: Command, ctx: () => CliContext): void {
  program
    .command('trace')
    .argument('<key>', 'a dossier key (affiliate_id, allowance id…) or an INSS')
    .option('--json', 'print the trace as JSON')
    .option('--unmask', 'show the INSS in full (recorded as an event in the ledger, with who asked)')
    .description(
      "show a record's trail across flows and periods: each run that extracted it, quarantined or emitted (file, position, bytes, AttestationID), the receivers' replies and its final state",
    )
    .action(async (key: string, opts: { json?: boolean; unmask?: boolean }) => {
      const c = ctx();
      const dbs = await c.databases();
      const trace = await traceRecord({ ledger: dbs.ledger, dossier: dbs.dossier }, key, { unmask: opts.unmask === true, now: c.clock.now() });
      if (opts.json) console.log(JSON.stringify(trace, null, 2));
      else process.stdout.write(traceToText(trace));
      if (trace.entries.length === 0) process.exitCode = 4;
    });
}
