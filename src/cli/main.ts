import { Command, CommanderError } from 'commander';
import { MaillonError } from '../errors/errors.js';
import { maskPersonalData } from '../log/maskPersonalData.js';
import { registerAcks } from './commands/acks.js';
import { registerCancel } from './commands/cancel.js';
import { registerDbMigrate } from './commands/dbMigrate.js';
import { registerDemo } from './commands/demo.js';
import { registerEvidence } from './commands/evidence.js';
import { registerFlows } from './commands/flows.js';
import { registerGenerate } from './commands/generate.js';
import { registerImport } from './commands/importCommand.js';
import { registerReport } from './commands/report.js';
import { registerRerun } from './commands/rerun.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSend } from './commands/send.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerSimulateReceiver } from './commands/simulateReceiver.js';
import { registerVerifyLedger } from './commands/verifyLedger.js';
import { type CliContext, createCliContext } from './context.js';
import { runShutdownHooks } from './shutdown.js';

let context: CliContext | null = null;
const ctx = (): CliContext => (context ??= createCliContext());
const current = (): CliContext | null => context;

const program = new Command('maillon')
  .description('Batch data exchanges of the Caisse nationale auxiliaire over the social-security batch channel')
  .exitOverride()
  .showHelpAfterError();
registerDbMigrate(program, ctx);
registerImport(program, ctx);
registerGenerate(program, ctx);
registerRun(program, ctx);
registerRuns(program, ctx);
registerSend(program, ctx);
registerAcks(program, ctx);
registerCancel(program, ctx);
registerSimulateReceiver(program, ctx);
registerVerifyLedger(program, ctx);
registerEvidence(program, ctx);
registerServe(program, ctx);
registerStatus(program, ctx);
registerReport(program, ctx);
registerRerun(program, ctx);
registerDemo(program, ctx);
registerFlows(program);

// On SIGINT/SIGTERM: let a long-running command stop gracefully, then release the databases
// (stopping an embedded PostgreSQL) and exit with 128 + the signal number.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(signal, () => {
    void runShutdownHooks()
      .finally(() => current()?.close())
      .finally(() => process.exit(code));
  });
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = exitCodeOf(err);
  if (!(err instanceof CommanderError)) {
    const message = maskPersonalData(err instanceof Error ? err.message : String(err));
    process.stderr.write(`maillon: ${message}\n`);
    if (!(err instanceof MaillonError)) current()?.logger.error({ err }, 'unexpected failure');
  }
} finally {
  await current()?.close();
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof MaillonError) return err.exitCode;
  return 1;
}
