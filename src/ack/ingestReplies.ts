import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as pkijs from 'pkijs';
import { z } from 'zod';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../domain/environment.js';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { AckError, ConfigError, TransportError } from '../errors/errors.js';
import { writeEvidenceOfFile, writeEvidencePack } from '../evidence/evidencePack.js';
import type { Logger } from '../log/logger.js';
import { maskPersonalData } from '../log/maskPersonalData.js';
import { type BatchFileName, formatBatchFileName, parseBatchFileName } from '../package/batchFileName.js';
import type { Endpoint, Endpoints } from '../transport/receivers.js';
import { openSftpSession, type SftpSession, withTimeout } from '../transport/sftpSession.js';
import { downloadReply } from './downloadReply.js';
import { libraryProblem } from './libraryProblem.js';
import { isRefusedValue, refusedNameReason, shownListedName } from './listedName.js';
import { processReply } from './processReply.js';
import { type KeptBody, recordReplaced, recordSetAside } from './replyLedger.js';
import { dependencyValue, MAX_DOWNLOAD_ATTEMPTS, type ReplacedReply, type ReplySettings, replyStanding, trustStoreFingerprint } from './replyStanding.js';
import type { ReplyFolder } from './replyRules.js';
import type { ReplyKind } from './replyXml.js';

/** What reading replies needs. */
export interface AckDeps {
  ledger: Pool;
  clock: Clock;
  logger: Logger;
  endpoints: Endpoints;
  passphrase(envName: string | undefined): string | undefined;
  /** Local folder (0700) where every reply is kept (0600), and set-aside ones under set-aside/. */
  repliesDir: string;
  /** Largest reply accepted, bytes, counted while downloading (zipped replies: once unzipped too). */
  maxReplyBytes: number;
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
}

/** One reply folder of one server. */
interface Folder {
  endpoint: Endpoint;
  /** `user@host:port/dir`: with the reply's name, what identifies a reply in the ledger. */
  server: string;
  dir: string;
  folder: ReplyFolder;
  /** The receivers whose endpoints resolve to this server and folder: whose files its replies may settle. */
  receivers: readonly string[];
}

type Listed = { name: string; size: number; type: string };

/** The outcome of one listed entry; downloadFailed: the connection may have gone with it. */
type Entered = ReplyOutcome & { downloadFailed?: true };

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
  const folderOf = (endpoint: Endpoint): Omit<Folder, 'receivers'> => {
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
function folderFailed(deps: AckDeps, f: Folder, err: TransportError | ConfigError): ReplyOutcome {
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

async function ingestFolder(deps: AckDeps, f: Folder, out: ReplyOutcome[]): Promise<void> {
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

/**
 * Reads one listed entry, unless its name cannot be a reply's (a NUL byte, a control character,
 * longer than a file name): that one is set aside under a shown form (its masked start and a hash)
 * before its name reaches the ledger. A value of the entry that the ledger still refuses sets it
 * aside the same way: one entry never stops the others.
 */
async function screenedEntry(deps: AckDeps, f: Folder, entry: Listed, read: () => Promise<Entered | null>): Promise<Entered | null> {
  const refused = refusedNameReason(entry.name);
  if (refused) return refusedName(deps, f, entry, `Its name ${refused}`);
  try {
    return await read();
  } catch (err) {
    if (!isRefusedValue(err)) throw err;
    return refusedName(deps, f, entry, `The ledger refuses a value of it (${libraryProblem(err.message, `PostgreSQL error ${err.code}`)})`);
  }
}

/** Records and reports a listed entry set aside under its shown form (never recorded again on later passes). */
async function refusedName(deps: AckDeps, f: Folder, entry: Listed, why: string): Promise<ReplyOutcome> {
  const shown = shownListedName(entry.name);
  const standing = await replyStanding(deps.ledger, f.server, { name: shown, size: entry.size, companionListed: false, reread: false }, replySettings(deps));
  const reason = `${why}: a file listed in the reply folder ${f.server} (${f.folder}, of ${f.receivers.join(', ')}), shown here as ${shown}. It was not read and stays on the server; ask the receiver to remove it.`;
  // Known already: quiet, unless the operator asked to read it again, who learns why it cannot be.
  if (!standing.read) return deps.reread?.has(shown) ? { name: shown, result: 'set_aside', reason } : { name: shown, result: 'already-processed' };
  await recordSetAside(deps.ledger, { server: f.server, name: shown, at: deps.clock.now(), reason, body: null, fileName: null, listedBytes: entry.size });
  deps.logger.warn({ reply: shown, server: f.server, reason }, 'reply set aside');
  return { name: shown, result: 'set_aside', reason };
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

/** One listed name: its outcome, or null when it is not complete yet (no GO). */
async function ingestEntry(deps: AckDeps, s: SftpSession, f: Folder, entry: Listed, listed: Map<string, Listed>): Promise<Entered | null> {
  const settings = replySettings(deps);
  const standing = await replyStanding(deps.ledger, f.server, { ...entry, companionListed: listed.has(companionOf(entry.name)), reread: deps.reread?.has(entry.name) ?? false }, settings);
  if (!standing.read) return standing.replaced ? replaced(deps, f, entry, standing.replaced) : { name: entry.name, result: 'already-processed' };
  let name: ReplyName;
  try {
    name = parseReplyName(entry.name);
  } catch (err) {
    return setAside(deps, f, entry, err as AckError, null);
  }
  if (!listed.has(formatBatchFileName({ ...name, kind: 'GO', parts: 1 }))) return null; // not complete yet: its GO comes last
  let body: KeptBody | null = null;
  try {
    screen(entry, deps.maxReplyBytes, 'it');
    const signatureName = formatBatchFileName({ ...name, kind: 'FS', parts: 1, part: 1 });
    const signature = listed.get(signatureName);
    if (signature) screen(signature, 1_000_000, 'its signature companion');
    const signaturePath = signature ? (await download(deps, s, f, signature.name, 1_000_000)).localPath : null;
    body = await download(deps, s, f, entry.name, deps.maxReplyBytes);
    const applied = await processReply(deps, {
      server: f.server,
      name: entry.name,
      folder: f.folder,
      receivers: f.receivers,
      nameEnvironment: name.environment,
      at: deps.clock.now(),
      body,
      zipped: name.kind === 'CO',
      purpose: name.purpose,
      signaturePath,
    });
    if (applied === 'duplicate') {
      await fs.rm(body.localPath, { force: true }); // another instance kept its own copy
      return { name: entry.name, result: 'already-processed' };
    }
    if (applied.state === 'conflict') {
      // A conflict recorded after the submission's pack (a contradicting NOTI, a replay, an answer after a cancel) gets its addendum.
      if (deps.evidenceDir) await writeEvidencePack(deps.ledger, deps.evidenceDir, applied.submissionId, deps.clock);
      deps.logger.warn({ reply: entry.name, submissionId: applied.submissionId, reason: applied.reason }, 'reply not believed (conflict)');
      return { name: entry.name, result: 'conflict', reason: applied.reason };
    }
    deps.logger.info({ reply: entry.name, submissionId: applied.submissionId, unmatchedAnomalies: applied.unmatched, state: applied.submissionState?.to }, 'reply processed');
    if (deps.evidenceDir) await writeEvidencePack(deps.ledger, deps.evidenceDir, applied.submissionId, deps.clock);
    return { name: entry.name, result: 'processed' };
  } catch (err) {
    if (err instanceof AckError) return setAside(deps, f, entry, err, body);
    if (err instanceof TransportError && err.retryable) {
      return { ...(await failedDownload(deps, f, entry, err, standing.failedDownloads + 1)), downloadFailed: true };
    }
    throw err;
  }
}

/** The sender of every reply: the channel operator (domain.md §2). */
const REPLY_SENDER = '999999';

/** A reply's name: FO or CO, ACRF or NOTI, from the channel operator. */
type ReplyName = BatchFileName & { purpose: ReplyKind };

/** The name of a reply, validated (anything else is refused with the shape expected). */
function parseReplyName(text: string): ReplyName {
  let n: BatchFileName;
  try {
    n = parseBatchFileName(text);
  } catch (err) {
    // The refusal repeats the name, which is anything a server lists: a person's number masked.
    throw new AckError(maskPersonalData((err as Error).message.slice(0, 300)), { cause: err });
  }
  if (n.kind !== 'FO' && n.kind !== 'CO') throw new AckError(`"${maskPersonalData(text.slice(0, 80))}" is not a reply file name`);
  // The name is a batch-channel one: its parts hold no run of 11 digits, so it may be shown.
  const notReply = `${text} is not a reply (a reply is named ${n.kind}.ACRF or ${n.kind}.NOTI, from sender ${REPLY_SENDER})`;
  if (n.purpose !== 'ACRF' && n.purpose !== 'NOTI') throw new AckError(`${notReply}: its purpose is ${n.purpose}, another flow's; it was not downloaded and stays on the server.`);
  if (n.sender !== REPLY_SENDER) throw new AckError(`${notReply}: its sender is ${n.sender}; it was not downloaded and stays on the server.`);
  return { ...n, purpose: n.purpose };
}

/** Refuses, from the listing, what must not be downloaded: not a regular file, or over the limit. */
function screen(entry: Listed, maxBytes: number, what = 'it'): void {
  const kinds: Record<string, string> = { d: 'a directory', l: 'a symbolic link', p: 'a pipe', s: 'a socket', b: 'a device', c: 'a device' };
  if (entry.type !== '-') throw new AckError(`${what === 'it' ? 'It' : `${what} (${entry.name})`} is ${kinds[entry.type] ?? 'not a regular file'}, not a regular file: not downloaded.`);
  if (entry.size > maxBytes) {
    // The reply's own limit is MAILLON_MAX_REPLY_BYTES: raised, the reply is read again; its companion's is fixed.
    throw new AckError(`${what === 'it' ? '' : `${what}: `}${entry.size} bytes, over the limit of ${maxBytes}; not downloaded.`, what === 'it' ? { dependsOn: 'max_reply_bytes' } : {});
  }
}

async function download(deps: AckDeps, s: SftpSession, f: Folder, name: string, maxBytes: number): Promise<KeptBody> {
  const stamp = deps.clock.now().toISOString().replace(/[-:.]/g, '');
  const local = path.join(deps.repliesDir, `${stamp}-${randomBytes(4).toString('hex')}-${name}`);
  return downloadReply(s, path.posix.join(f.dir, name), local, maxBytes, f.endpoint.timeoutMs);
}

async function setAside(deps: AckDeps, f: Folder, entry: Listed, err: AckError, body: KeptBody | null): Promise<ReplyOutcome> {
  const { name } = entry;
  let kept: KeptBody | null = null;
  if (body) {
    const dir = path.join(deps.repliesDir, 'set-aside');
    await privateFolder(dir);
    kept = { ...body, localPath: path.join(dir, path.basename(body.localPath)) };
    await fs.rename(body.localPath, kept.localPath);
  }
  await recordSetAside(deps.ledger, {
    server: f.server,
    name,
    at: deps.clock.now(),
    reason: err.message,
    body: kept,
    fileName: err.fileName,
    listedBytes: entry.size,
    ...(err.dependsOn ? { dependsOn: { setting: err.dependsOn, value: dependencyValue(err.dependsOn, replySettings(deps)) } } : {}),
  });
  if (deps.evidenceDir && err.fileName) await writeEvidenceOfFile(deps.ledger, deps.evidenceDir, err.fileName, deps.clock);
  deps.logger.warn({ reply: name.slice(0, 120), reason: err.message }, 'reply set aside');
  return { name, result: 'set_aside', reason: err.message };
}

/** A failed download: set aside for now and tried again by the next passes, for good after MAX_DOWNLOAD_ATTEMPTS. */
async function failedDownload(deps: AckDeps, f: Folder, entry: Listed, err: TransportError, attempts: number): Promise<ReplyOutcome> {
  const { name } = entry;
  const reason =
    attempts < MAX_DOWNLOAD_ATTEMPTS
      ? `${err.message} It will be downloaded again on the next pass (failure ${attempts} of ${MAX_DOWNLOAD_ATTEMPTS}).`
      : `${err.message} Given up after ${attempts} failed downloads; ask the receiver about it.`;
  await recordSetAside(deps.ledger, { server: f.server, name, at: deps.clock.now(), reason, body: null, fileName: null, attempts, listedBytes: entry.size });
  deps.logger.warn({ reply: name.slice(0, 120), reason }, 'reply download failed');
  return { name, result: 'set_aside', reason };
}

/** The settings a reply may be set aside for, as configured now. */
function replySettings(deps: AckDeps): ReplySettings {
  return { maxReplyBytes: deps.maxReplyBytes, trustStore: trustStoreFingerprint(deps.trustStore) };
}

/** The name of a reply's signature companion: FS, with the part count and number (FO.ACRF.….T → FS.ACRF.….T.1.1). */
function companionOf(name: string): string {
  return `FS.${name.slice(3)}.1.1`;
}

/**
 * A reply already read that the server now lists with another size: other content under the same
 * name. It is not read (what was applied stands) and is reported once per size as a conflict.
 */
async function replaced(deps: AckDeps, f: Folder, entry: Listed, was: ReplacedReply): Promise<ReplyOutcome> {
  const first = await recordReplaced(deps.ledger, was.replyId, entry.size, deps.clock.now());
  if (!first) return { name: entry.name, result: 'already-processed' };
  const read = was.state === 'processed' ? 'applied' : 'recorded as a conflict';
  const reason =
    `Replaced on the server: this reply was read on ${was.receivedAt.toISOString()} (${was.bytes} bytes, ${read}) and ${f.server} now lists ${entry.size} bytes under the same name. ` +
    `Its new content was not read and changes nothing: a reply is never applied over another of the same name. Ask the receiver what it meant; a correction comes under a new name.`;
  deps.logger.warn({ reply: entry.name.slice(0, 120), reason }, 'reply replaced on the server (conflict)');
  return { name: entry.name, result: 'conflict', reason };
}

/** Creates a folder 0700, or takes away what group and others may do in one that exists. */
async function privateFolder(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (((await fs.stat(dir)).mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
}
