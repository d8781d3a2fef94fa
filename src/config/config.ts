import path from 'node:path';
import { z } from 'zod';
import { type Environment, environmentSchema } from '../domain/environment.js';
import type { FundIdentity } from '../domain/fundIdentity.js';
import { ConfigError } from '../errors/errors.js';
import type { SigningSettings } from '../sign/signingIdentity.js';
import { checkFundIdentity, fundEnvShape } from './fundConfig.js';

export type { Environment } from '../domain/environment.js';
/** MAILLON_MAX_UNZIPPED_BYTES when unset: 1 GiB of XML inside a zipped (CO) reply (a NOTI is read as a stream: this bounds time and the ledger's work, not memory). */
export const DEFAULT_MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024;
const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL');

const envSchema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  DOSSIER_DATABASE_URL: postgresUrl.optional(),
  MAILLON_HOME: z.string().min(1).optional(),
  MAILLON_OUTBOX: z.string().min(1).optional(),
  MAILLON_DOCUMENTS: z.string().min(1).optional(),
  MAILLON_EVIDENCE: z.string().min(1).optional(),
  MAILLON_SENDER: z
    .string()
    .regex(/^\d{6}$/, 'must be the 6-digit sender number')
    .optional(),
  MAILLON_ENV: environmentSchema.default('T'),
  MAILLON_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAILLON_XMLLINT: z.string().min(1).optional(),
  MAILLON_RECEIVERS: z.string().min(1).optional(),
  MAILLON_SIGN_CERT: z.string().min(1).optional(),
  MAILLON_SIGN_KEY: z.string().min(1).optional(),
  MAILLON_SIGN_P12: z.string().min(1).optional(),
  MAILLON_SIGN_PASSPHRASE: z.string().optional(),
  MAILLON_SIGN_LAYOUT: z.enum(['single-line', 'cr76']).default('cr76'),
  MAILLON_SIGN_TEST: z.enum(['true', 'false']).default('false'),
  MAILLON_TRUST_STORE: z.string().min(1).optional(),
  MAILLON_CATCHUP_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  MAILLON_TICK_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  MAILLON_RETRY_LIMIT: z.coerce.number().int().min(1).max(100).default(5),
  MAILLON_STATUS_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  MAILLON_STATUS_HOST: z.string().min(1).default('127.0.0.1'),
  MAILLON_STATUS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  MAILLON_NOW: z.string().datetime({ offset: true }).optional(),
  MAILLON_CRASH_AT: z.enum(['before-upload', 'after-upload', 'after-rename', 'before-go-rename', 'after-go', 'after-commit', 'before-td', 'after-td']).optional(),
  MAILLON_PAUSE_AT: z.enum(['before-upload', 'after-upload', 'after-rename', 'before-go-rename', 'after-go', 'after-plan', 'before-publish', 'before-td', 'after-td']).optional(),
  MAILLON_PAUSE_UNTIL: z.string().min(1).optional(),
  MAILLON_ACK_DELAY_HOURS: z.coerce.number().int().min(1).default(48),
  MAILLON_MAX_REPLY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(50 * 1024 * 1024),
  MAILLON_MAX_UNZIPPED_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_MAX_UNZIPPED_BYTES),
  ...fundEnvShape,
});

/** maillon's validated configuration; every field comes from one environment variable. */
export interface Config {
  /** maillon's own database (ledger); undefined ⇒ the embedded PostgreSQL under `home`. */
  databaseUrl: string | undefined;
  /** The dossier database the pipelines read; defaults to `databaseUrl`. */
  dossierDatabaseUrl: string | undefined;
  /** Folder for local state (embedded database, temporary files). Absolute. */
  home: string;
  /** Folder where finished files are written. Absolute. */
  outbox: string;
  /** Folder where printable documents (attestations) are kept. Absolute. */
  documents: string;
  /** Folder of the evidence packs (one per submission in a final state). Absolute. */
  evidence: string;
  /** The fund's 6-digit sender number, when configured. */
  sender: string | undefined;
  /** Default environment of runs. */
  environment: Environment;
  logLevel: string;
  /** Path of xmllint, `wasm` to force the npm validator; undefined ⇒ xmllint from PATH, else wasm. */
  xmllint: string | undefined;
  /** The fund's identity (MAILLON_FUND_*), as Belcotax files state it; placeholders only outside R. */
  fund: FundIdentity;
  /** The signing identity for FS files, when configured (undefined: nothing configured). */
  signing: SigningSettings | undefined;
  /** PEM bundle of the CA certificates that replies' signatures must chain to. */
  trustStore: string | undefined;
  /** How far back the scheduler catches up missed periods, days. */
  catchUpDays: number;
  /** Seconds between two ticks of `maillon serve`; a failed scheduled run is retried after one tick, then twice as long each time. */
  tickSeconds: number;
  /** Failed scheduled runs of a period after which `maillon serve` gives it up. */
  retryLimit: number;
  /** Port and address of the status page of `maillon serve` (port 0: any free port). */
  statusPort: number;
  statusHost: string;
  /** The token the status page asks for (required when bound to an address other than loopback). */
  statusToken: string | undefined;
  /** Test only: a fixed instant for the clock (the scheduler tests drive time with it). */
  now: Date | undefined;
  /** Test only: the delivery step (`after-commit` of a run, `before-td`/`after-td` of a cancel) at which maillon kills itself (SIGKILL), to prove crash recovery. */
  crashAt: string | undefined;
  /** Test only: the delivery step at which delivery pauses 3 s (to stop the process in the middle of an upload). */
  pauseAt: string | undefined;
  /** Test only: with pauseAt, the pause lasts until this file exists (at most 2 minutes) instead of 3 s. */
  pauseUntil: string | undefined;
  /** Hours after which a sent submission without ACRF is overdue. */
  ackDelayHours: number;
  /** Largest reply maillon downloads and reads, bytes (a zipped reply: as downloaded). */
  maxReplyBytes: number;
  /** Largest content of a zipped (CO) reply once unzipped, bytes. */
  maxUnzippedBytes: number;
  /** JSON file with the receivers' SFTP endpoints (see README), when delivery is configured. */
  receiversFile: string | undefined;
  /** Reads the passphrase of a private key from the environment variable named in the receivers file. */
  secret(name: string | undefined): string | undefined;
}

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const cleaned = Object.fromEntries(Object.keys(envSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = envSchema.safeParse(cleaned);
  // Every setting is checked before the command is refused, so that one message names every bad
  // one: the invalid values are set aside (read as not set; an invalid MAILLON_ENV as T, where no
  // production rule applies) and the rest goes through the further checks all the same.
  const issues = parsed.success ? [] : parsed.error.issues;
  const refused = new Set(issues.map((i) => String(i.path[0])));
  const lines = issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const problems = lines.length > 0 ? [`The configuration is invalid: ${lines.join('; ')}. Fix these environment variables and start again.`] : [];
  const valid = parsed.success ? parsed : envSchema.safeParse(Object.fromEntries(Object.entries(cleaned).map(([k, value]) => [k, refused.has(k) ? undefined : value])));
  if (!valid.success) throw new ConfigError(problems.join(' '));
  const v = valid.data;
  const hooks = testHooksProblem(
    { now: cleaned['MAILLON_NOW'], crashAt: cleaned['MAILLON_CRASH_AT'], pauseAt: cleaned['MAILLON_PAUSE_AT'], pauseUntil: cleaned['MAILLON_PAUSE_UNTIL'] },
    v.MAILLON_ENV,
  );
  if (hooks) problems.push(hooks);
  const { fund, problems: fundProblems } = checkFundIdentity(v, v.MAILLON_ENV, refused);
  problems.push(...fundProblems);
  if (problems.length > 0) throw new ConfigError(problems.join(' '));
  const home = path.resolve(cwd, v.MAILLON_HOME ?? '.maillon');
  return {
    databaseUrl: v.DATABASE_URL,
    dossierDatabaseUrl: v.DOSSIER_DATABASE_URL ?? v.DATABASE_URL,
    home,
    outbox: path.resolve(cwd, v.MAILLON_OUTBOX ?? path.join(home, 'outbox')),
    documents: path.resolve(cwd, v.MAILLON_DOCUMENTS ?? path.join(home, 'documents')),
    evidence: path.resolve(cwd, v.MAILLON_EVIDENCE ?? path.join(home, 'evidence')),
    sender: v.MAILLON_SENDER,
    environment: v.MAILLON_ENV,
    logLevel: v.MAILLON_LOG_LEVEL,
    xmllint: v.MAILLON_XMLLINT,
    fund,
    signing:
      v.MAILLON_SIGN_P12 || v.MAILLON_SIGN_CERT || v.MAILLON_SIGN_KEY
        ? {
            ...(v.MAILLON_SIGN_CERT ? { certPath: path.resolve(cwd, v.MAILLON_SIGN_CERT) } : {}),
            ...(v.MAILLON_SIGN_KEY ? { keyPath: path.resolve(cwd, v.MAILLON_SIGN_KEY) } : {}),
            ...(v.MAILLON_SIGN_P12 ? { p12Path: path.resolve(cwd, v.MAILLON_SIGN_P12) } : {}),
            ...(v.MAILLON_SIGN_PASSPHRASE ? { passphrase: v.MAILLON_SIGN_PASSPHRASE } : {}),
            layout: v.MAILLON_SIGN_LAYOUT,
            signTest: v.MAILLON_SIGN_TEST === 'true',
          }
        : undefined,
    trustStore: v.MAILLON_TRUST_STORE ? path.resolve(cwd, v.MAILLON_TRUST_STORE) : undefined,
    catchUpDays: v.MAILLON_CATCHUP_DAYS,
    tickSeconds: v.MAILLON_TICK_SECONDS,
    retryLimit: v.MAILLON_RETRY_LIMIT,
    statusPort: v.MAILLON_STATUS_PORT,
    statusHost: v.MAILLON_STATUS_HOST,
    statusToken: v.MAILLON_STATUS_TOKEN,
    now: v.MAILLON_NOW ? new Date(v.MAILLON_NOW) : undefined,
    crashAt: v.MAILLON_CRASH_AT,
    pauseAt: v.MAILLON_PAUSE_AT,
    pauseUntil: v.MAILLON_PAUSE_UNTIL ? path.resolve(cwd, v.MAILLON_PAUSE_UNTIL) : undefined,
    ackDelayHours: v.MAILLON_ACK_DELAY_HOURS,
    maxReplyBytes: v.MAILLON_MAX_REPLY_BYTES,
    maxUnzippedBytes: v.MAILLON_MAX_UNZIPPED_BYTES,
    receiversFile: v.MAILLON_RECEIVERS ? path.resolve(cwd, v.MAILLON_RECEIVERS) : undefined,
    secret: (name) => (name ? env[name] : undefined),
  };
}

/**
 * Production is production: MAILLON_NOW, MAILLON_CRASH_AT, MAILLON_PAUSE_AT and MAILLON_PAUSE_UNTIL exist for the
 * tests, and a command working on environment R refuses to start while any of them is set.
 */
export function refuseTestHooks(hooks: TestHooks, environment: Environment): void {
  const problem = testHooksProblem(hooks, environment);
  if (problem) throw new ConfigError(problem);
}

type TestHooks = { now?: unknown; crashAt?: unknown; pauseAt?: unknown; pauseUntil?: unknown };

/** The sentence refusing the test hooks set for production (refuseTestHooks), or null. */
function testHooksProblem(hooks: TestHooks, environment: Environment): string | null {
  if (environment !== 'R') return null;
  const set = (
    [
      ['MAILLON_NOW', hooks.now],
      ['MAILLON_CRASH_AT', hooks.crashAt],
      ['MAILLON_PAUSE_AT', hooks.pauseAt],
      ['MAILLON_PAUSE_UNTIL', hooks.pauseUntil],
    ] as const
  )
    .filter(([, value]) => value !== undefined)
    .map(([name]) => name);
  if (set.length === 0) return null;
  return `${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} for tests only and may not be set for production (environment R): unset ${set.length === 1 ? 'it' : 'them'} and start again.`;
}

/** Parses an environment letter given on the command line. */
export function parseEnvironment(text: string): Environment {
  const r = environmentSchema.safeParse(text);
  if (!r.success) throw new ConfigError(`"${text}" is not an environment: use R (production), T (test) or S (simulation).`);
  return r.data;
}

/** The sender number, or a ConfigError telling how to set it. */
export function requireSender(config: Config): string {
  if (!config.sender) {
    throw new ConfigError("MAILLON_SENDER is not set: set it to the fund's 6-digit sender number of the batch channel.");
  }
  return config.sender;
}

/** The receivers file, or a ConfigError telling how to set it. */
export function requireReceiversFile(config: Config): string {
  if (!config.receiversFile) {
    throw new ConfigError("MAILLON_RECEIVERS is not set: point it to the JSON file of the receivers' SFTP endpoints (see README).");
  }
  return config.receiversFile;
}
