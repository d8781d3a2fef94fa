import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { runStatement } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { isValidInss } from '../../src/domain/inss.js';
import { startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js';
import { findTools, requireAllUnderStrict, shadowPath, substitutionLine } from './systemTools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
  }
}

/**
 * Finds a PostgreSQL for the tests: MAILLON_TEST_DATABASE_URL, else the local server on
 * 127.0.0.1:5432, else an embedded one started here on a free port. Builds one migrated
 * template database that every test file clones, and drops it at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The system tools, or their npm counterparts (test/helpers/systemTools.ts); strict: none missing.
  const found = findTools();
  requireAllUnderStrict(found);
  const toolsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-test-tools-'));
  process.env['PATH'] = shadowPath(found, toolsDir);
  process.env['MAILLON_TEST_TOOLS'] = JSON.stringify(found);
  let adminUrl = process.env['MAILLON_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  let stopEmbedded: (() => Promise<void>) | null = null;
  if (!(await reachable(adminUrl))) {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-test-pg-'));
    const embedded = await startEmbeddedPostgres(home);
    adminUrl = embedded.url.replace(/\/maillon$/, '/postgres');
    stopEmbedded = async () => {
      await embedded.stop();
      await fs.rm(home, { recursive: true, force: true });
    };
  }
  const templateDatabase = `maillon_tpl_${process.pid}`;
  await runStatement(adminUrl, `DROP DATABASE IF EXISTS ${templateDatabase}`);
  await runStatement(adminUrl, `CREATE DATABASE ${templateDatabase}`);
  const pool = new pg.Pool({ connectionString: withDatabase(adminUrl, templateDatabase) });
  await migrate(pool, 'ledger');
  await migrate(pool, 'dossier');
  await pool.end();
  // Every log line written by a maillon process during the run is kept here and scanned at the end.
  const logFile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-test-logs-')), 'all.log');
  await fs.writeFile(logFile, '');
  process.env['MAILLON_TEST_LOG'] = logFile;
  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);
  return async () => {
    await runStatement(adminUrl, `DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`);
    await stopEmbedded?.();
    await fs.rm(toolsDir, { recursive: true, force: true });
    console.log(substitutionLine(found));
    scanLogs(await fs.readFile(logFile, 'utf8'));
    await fs.rm(path.dirname(logFile), { recursive: true, force: true });
  };
}

/** Secrets the tests configure; none may ever reach a log line. */
const TEST_SECRETS = ['correct horse battery staple 42', 'p12 secret 7'];

/** Fails the test run if any log line holds a full INSS (valid check digits) or a configured secret. */
function scanLogs(text: string): void {
  const lines = text.split('\n').filter(Boolean);
  // On the whole suite (npm test) the scan must have seen the logs, or it would prove nothing.
  if (process.env['MAILLON_FULL_RUN'] && lines.length < 50) throw new Error(`the log scan saw only ${lines.length} log lines: the logs of the run were not collected`);
  const leaks = lines.filter((l) => [...l.matchAll(/(?<!\d)\d{11}(?!\d)/g)].some((m) => isValidInss(m[0])) || TEST_SECRETS.some((s) => l.includes(s)));
  if (leaks.length) throw new Error(`${leaks.length} log line(s) hold a full INSS or a secret, e.g.: ${leaks[0]!.slice(0, 300)}`);
  console.log(`log scan: ${lines.length} log lines of the whole run, no full INSS, no secret`);
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
