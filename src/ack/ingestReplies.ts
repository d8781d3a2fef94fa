import path from 'node:path';
import type * as pkijs from 'pkijs';
import { z } from 'zod';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../domain/environment.js';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { ConfigError, TransportError } from '../errors/errors.js';
import type { Logger } from '../log/logger.js';
import { maskPersonalData } from '../log/maskPersonalData.js';
import type { Endpoint, Endpoints } from '../transport/receivers.js';
import { openSftpSession, type SftpSession, withTimeout } from '../transport/sftpSession.js';
import { ingestEntry } from './ingestEntry.js';
import { screenedEntry } from './listedName.js';
import { privateFolder } from './replyOutcomes.js';
import { sweepPartials } from './sweepPartials.js';
import type { ReplyFolder } from './replyRules.js';

/** What reading replies needs. */
export interface AckDeps {
  ledger: Pool;
  clock: Clock;
  logger: Logger;
  endpoints: Endpoints;
  passphrase(envName: string | undefined): string | undefined;
  /** Local folder (0700) where every reply is kept (0600), and set-aside ones under set-aside/. */
  repliesDir: string;
  /** Largest reply accepted, bytes, counted while downloading (a zipped reply: as downloaded). */
  maxReplyBytes: number;
  /** Largest content of a zipped (CO) reply, counted while unzipping (MAILLON_MAX_UNZIPPED_BYTES; DEFAULT_MAX_UNZIPPED_BYTES when not given). */
  maxUnzippedBytes?: number;
  /** Where evidence packs are written when a submission reaches a final state (none when unset). */
  evidenceDir?: string;
  /** CA certificates a reply's signature must chain to; a signed reply is set aside without them. */
  trustStore?: readonly pkijs.Certificate[];
  /** Replies set aside that the operator asked to read again (maillon acks --reread), by name. */
  reread?: ReadonlySet<string>;
  /** Opens an SFTP session (openSftpSession unless a test wraps it to act between two operations). */
  openSession?: (endpoint: Endpoint, passphrase: string | undefined) => Promise<SftpSession>;
}

/** The outcome for one reply file found on a server, or for a reply folder that could not be read. */
export interface ReplyOutcome {
  /** The reply's name; for folder_failed, the folder (`user@host:port/dir`). */
  name: string;
  /**
   * processed: applied; conflict: read but not believed (see the reason); set_aside: not read, or
   * not about our files; folder_failed: the folder could not be read this pass (the others were).
   */
  result: 'processed' | 'conflict' | 'set_aside' | 'already-processed' | 'folder_failed';
  reason?: string;
  /** folder_failed only: the receivers whose replies that folder holds. */
  receivers?: string[];
  /** folder_failed only: configuration (its key cannot be read), else transport (server, network, folder). */
  cause?: 'configuration' | 'transport';
  /** Set when the evidence pack (or addendum) this reply calls for could not be written this pass: why (the reply is recorded all the same). */
  evidence?: string;
}

/** One reply folder of one server. */
export interface ServerFolder {
  endpoint: Endpoint;
  /** `user@host:port/dir`: with the reply's name, what identifies a reply in the ledger. */
  server: string;
  dir: string;
  folder: ReplyFolder;
  /** The receivers whose endpoints resolve to this server and folder: whose files its replies may settle. */
  receivers: readonly string[];
}

/** One entry of a folder's listing. */
export type ListedEntry = { name: string; size: number; type: string; mtime: Date | null };

/** The outcome of one listed entry; downloadFailed: the connection may have gone with it. */
export type EntryOutcome = ReplyOutcome & { downloadFailed?: true };

/**
 * Reads the reply folder (OUT for R, OUTTEST for T and S) of every receiver we sent to in that
 * environment, once per server and folder: each FO/CO reply whose own GO is there is downloaded
 * once, read safely and applied to the ledger, or recorded as a conflict when the rules of
 * replyRules.ts say it must not be believed (among them: a file of a receiver that folder does
 * not serve). Each reply stands alone: whatever fails in one (its name, its type, its size,
 * its download, its content) sets that reply aside with the reason and the next one is read. A
 * folder that cannot be read (its server unreachable, the folder missing, its key unreadable) is a
 * folder_failed outcome naming it and its receivers, and the next folder is read. A failure that
 * is not a reply's or a folder's (the database, our disk) ends the pass with its error.
 *
 * Each outcome is pushed to `outcomes` as soon as it is known: when the pass ends with an error,
 * the caller still has those of the replies already applied.
 */
export async function ingestReplies(deps: AckDeps, environment: Environment, outcomes: ReplyOutcome[] = []): Promise<ReplyOutcome[]> {
  const receivers = await queryRows(
    deps.ledger,
    // Every receiver of the ledger, and whether it may hold one of our GO files in this
    // environment: sent, or written with its GO started (a send killed after the GO, which the
    // receiver may already have answered). Only those are read; all of them tell whose replies a
    // folder holds, since a reply may name a file of any.
    `SELECT receiver, bool_or(environment = $1 AND (state <> 'written' OR go_started_at IS NOT NULL)) AS answers
     FROM maillon.submissions GROUP BY receiver ORDER BY receiver`,
    [environment],
    z.object({ receiver: z.string(), answers: z.boolean() }),
  );
  const folderOf = (endpoint: Endpoint): Omit<ServerFolder, 'receivers'> => {
    const dir = environment === 'R' ? endpoint.outDir : endpoint.outTestDir;
    return { endpoint, dir, server: `${endpoint.user}@${endpoint.host}:${endpoint.port}${path.posix.resolve('/', dir)}`, folder: environment === 'R' ? 'OUT' : 'OUTTEST' };
  };
  // A receiver we sent to that the receivers file no longer has: its replies may lie in any folder
  // we read, where they would be judged "wrong receiver" for good. No folder is read until it is
  // back; the error names every such receiver at once.
  const unreachable = receivers.filter((r) => r.answers && !endpointIfAny(deps.endpoints, r.receiver)).map((r) => r.receiver);
  if (unreachable.length > 0) {
    const them = unreachable.length === 1 ? 'it' : 'them';
    throw new ConfigError(
      `The receivers file has no endpoint (and no "*" default) for ${unreachable.join(', ')}, sent to in environment ${environment}: no reply was read, since a reply of ${them} in a shared folder would be judged to come from the wrong receiver. Add ${them} to the receivers file, then read the replies (maillon acks).`,
    );
  }
  const served = new Map<string, string[]>();
  for (const { receiver, answers } of receivers) {
    const endpoint = answers ? deps.endpoints.forReceiver(receiver) : endpointIfAny(deps.endpoints, receiver);
    if (!endpoint) continue;
    const { server } = folderOf(endpoint);
    served.set(server, [...(served.get(server) ?? []), receiver]);
  }
  await privateFolder(deps.repliesDir);
  await sweepPartials(deps, Math.max(0, ...receivers.filter((r) => r.answers).map((r) => deps.endpoints.forReceiver(r.receiver).timeoutMs)));
  const seen = new Set<string>();
  for (const { receiver } of receivers.filter((r) => r.answers)) {
    const f = folderOf(deps.endpoints.forReceiver(receiver));
    if (seen.has(f.server)) continue;
    seen.add(f.server);
    const folder = { ...f, receivers: served.get(f.server)! };
    try {
      await ingestFolder(deps, folder, outcomes);
    } catch (err) {
      if (!(err instanceof TransportError || err instanceof ConfigError)) throw err;
      outcomes.push(folderFailed(deps, folder, err));
    }
  }
  for (const name of deps.reread ?? []) {
    if (outcomes.some((o) => o.name === name)) continue;
    outcomes.push({
      name,
      result: 'set_aside',
      reason: `Asked to be read again, but no folder read for environment ${environment} lists it complete (with its GO): it stays set aside. Check the environment (--env) and the receiver's folder.`,
    });
  }
  return outcomes;
}

/** A folder that could not be read (or not to its end): named with its receivers, logged, and read again by the next pass. */
function folderFailed(deps: AckDeps, f: ServerFolder, err: TransportError | ConfigError): ReplyOutcome {
  const said = maskPersonalData(err.message).trim();
  const reason = `The reply folder ${f.server} (${f.folder}, of ${f.receivers.join(', ')}) could not be read: ${/[.!?]$/.test(said) ? said : `${said}.`} Its replies not read yet wait there; the other folders were read, and this one is read again by the next pass.`;
  deps.logger.warn({ server: f.server, receivers: f.receivers, reason }, 'a reply folder could not be read');
  return { name: f.server, result: 'folder_failed', reason, receivers: [...f.receivers], cause: err instanceof ConfigError ? 'configuration' : 'transport' };
}

/**
 * A receiver's endpoint, or null when the receivers file has none for it: a receiver we no longer
 * send to may have left it, and its folder is then none of those read.
 */
function endpointIfAny(endpoints: Endpoints, receiver: string): Endpoint | null {
  try {
    return endpoints.forReceiver(receiver);
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
}

async function ingestFolder(deps: AckDeps, f: ServerFolder, out: ReplyOutcome[]): Promise<void> {
  const open = (): Promise<SftpSession> => (deps.openSession ?? openSftpSession)(f.endpoint, deps.passphrase(f.endpoint.passphraseEnv));
  let session = await open();
  try {
    const entries = await session.list(f.dir);
    const listed = new Map(entries.map((e) => [e.name, e]));
    for (const entry of [...entries].sort((a, b) => (channelOrder(a.name) < channelOrder(b.name) ? -1 : 1))) {
      if (!/^(FO|CO)\./.test(entry.name) && !/[\\/]|\.\./.test(entry.name)) continue;
      const outcome = await screenedEntry(deps, f, entry, () => ingestEntry(deps, session, f, entry, listed));
      if (outcome === null) continue;
      const { downloadFailed, ...reported } = outcome;
      out.push(reported);
      if (downloadFailed) {
        // The failed download may have taken the connection with it: the next reply gets a new one.
        await closeWithin(session, f.endpoint.timeoutMs);
        session = await open();
      }
    }
  } finally {
    await closeWithin(session, f.endpoint.timeoutMs);
  }
}

/** Closes a session, waiting at most `ms` (a hung server never answers the goodbye). */
async function closeWithin(session: SftpSession, ms: number): Promise<void> {
  await withTimeout(session.close(), ms, 'closing the session').catch(() => undefined);
}

/**
 * The order the receiver wrote its replies in: by creation date and sequence (an ACRF before the
 * NOTI that follows it, even when the NOTI came zipped as CO), then by name.
 */
function channelOrder(name: string): string {
  const m = /^(?:FO|CO)\.[A-Z0-9]{4}\.\d{6}\.(\d{8})\.([A-Z0-9]{5})\./.exec(name);
  return m ? `1${m[1]}${m[2]}${name}` : `0${name}`;
}
