import { Command, CommanderError } from 'commander';
import { type CliContext, createCliContext } from './context.js';
import { describeFailure } from './failure.js';
import { runShutdownHooks } from './shutdown.js';

// A reader that goes away (`maillon status | head -1`) closes stdout: the rest of the output is
// dropped quietly (no EPIPE stack trace) and the command still finishes its work and its exit code.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
});
// With --json, stdout carries the JSON document alone (one console.log of a JSON text, as every
// command prints it); anything else printed with console.log, by a library, goes to stderr.
if (process.argv.includes('--json')) {
  const toStdout = console.log.bind(console);
  console.log = (...args: unknown[]): void => {
    if (args.length === 1 && typeof args[0] === 'string' && /^[[{]/.test(args[0])) toStdout(args[0]);
    else console.error(...args);
  };
}

let context: CliContext | null = null;
const ctx = (): CliContext => (context ??= createCliContext());
const current = (): CliContext | null => context;

const program = new Command('maillon').description('Batch data exchanges of the Caisse nationale auxiliaire over the social-security batch channel').exitOverride().showHelpAfterError();
// Each command's module (and the libraries it needs: SFTP, CMS, job queue…) is loaded only when
// that command runs: every process keeps the memory of what it does, not of the whole tool.
type Register = (program: Command, ctx: () => CliContext) => void;
const COMMANDS: Record<string, () => Promise<Register>> = {
  db: async () => (await import('./commands/dbMigrate.js')).registerDbMigrate,
  import: async () => (await import('./commands/importCommand.js')).registerImport,
  generate: async () => (await import('./commands/generate.js')).registerGenerate,
  run: async () => (await import('./commands/run.js')).registerRun,
  runs: async () => (await import('./commands/runs.js')).registerRuns,
  send: async () => (await import('./commands/send.js')).registerSend,
  acks: async () => (await import('./commands/acks.js')).registerAcks,
  cancel: async () => (await import('./commands/cancel.js')).registerCancel,
  'simulate-receiver': async () => (await import('./commands/simulateReceiver.js')).registerSimulateReceiver,
  'verify-ledger': async () => (await import('./commands/verifyLedger.js')).registerVerifyLedger,
  evidence: async () => (await import('./commands/evidence.js')).registerEvidence,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  status: async () => (await import('./commands/status.js')).registerStatus,
  report: async () => (await import('./commands/report.js')).registerReport,
  rerun: async () => (await import('./commands/rerun.js')).registerRerun,
  backfill: async () => (await import('./commands/rerun.js')).registerRerun,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  flows: async () => (await import('./commands/flows.js')).registerFlows,
  pause: async () => (await import('./commands/pause.js')).registerPause,
  resume: async () => (await import('./commands/pause.js')).registerResume,
  trace: async () => (await import('./commands/trace.js')).registerTrace,
};
const asked = process.argv[2];
const names = asked && asked in COMMANDS ? [asked] : Object.keys(COMMANDS).filter((n) => n !== 'backfill');
for (const name of names) (await COMMANDS[name]!())(program, ctx);

// On SIGINT/SIGTERM: let a long-running command stop gracefully, then release the databases
// (stopping an embedded PostgreSQL) and exit with 128 + the signal number. Later signals (a
// second `docker stop`, `timeout`, Ctrl-C again) change nothing: the step in progress still
// ends and is recorded; only SIGKILL cuts it (docs/deployment.md: the stop grace period).
let stopping = false;
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.on(signal, () => {
    if (stopping) {
      process.stderr.write(`maillon: ${signal} again: still stopping, the work in progress ends first\n`);
      return;
    }
    stopping = true;
    void runShutdownHooks()
      .finally(() => current()?.close())
      .finally(() => process.exit(code));
  });
}

try {
  await program.parseAsync(process.argv);
} catch (caught) {
  if (caught instanceof CommanderError) process.exitCode = caught.exitCode === 0 ? 0 : 2;
  else {
    const failure = describeFailure(caught, program.args[0] ?? 'command', current()?.logger);
    process.exitCode = failure.exitCode;
    process.stderr.write(`maillon: ${failure.message}\n`);
  }
} finally {
  await current()?.close();
}
