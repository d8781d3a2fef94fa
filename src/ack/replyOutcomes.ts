import fs from 'node:fs/promises';
import path from 'node:path';
import { AckError, TransportError } from '../errors/errors.js';
import type { SftpSession } from '../transport/sftpSession.js';
import { hashRemoteReply } from './downloadReply.js';
import type { AckDeps, EntryOutcome, ListedEntry, ReplyOutcome, ServerFolder } from './ingestReplies.js';
import { writeReplyEvidence } from './replyEvidence.js';
import { type KeptBody, type ReplacedContent, recordListedTime, recordReplaced, recordSetAside } from './replyLedger.js';
import { dependencyValue, MAX_DOWNLOAD_ATTEMPTS, type ReplacedReply, replySettings } from './replyStanding.js';

/** A reply not read, or read and refused: its body (if any, with its signature companion) kept under set-aside/, recorded with the reason, and reported. */
export async function setAside(deps: AckDeps, f: ServerFolder, entry: ListedEntry, err: AckError, body: KeptBody | null): Promise<ReplyOutcome> {
  const { name } = entry;
  let kept: KeptBody | null = null;
  if (body) {
    const dir = path.join(deps.repliesDir, 'set-aside');
    await privateFolder(dir);
    kept = { ...body, localPath: path.join(dir, path.basename(body.localPath)) };
    await fs.rename(body.localPath, kept.localPath);
    // Its signature companion goes with it (the evidence of a signature that did not verify, say).
    if (body.signaturePath) {
      kept.signaturePath = path.join(dir, path.basename(body.signaturePath));
      await fs.rename(body.signaturePath, kept.signaturePath);
    }
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
  const evidence = err.fileName ? await writeReplyEvidence(deps, name, { fileName: err.fileName }) : {};
  deps.logger.warn({ reply: name.slice(0, 120), reason: err.message }, 'reply set aside');
  return { name, result: 'set_aside', reason: err.message, ...evidence };
}

/** A failed download: set aside for now and tried again by the next passes, for good after MAX_DOWNLOAD_ATTEMPTS. */
export async function failedDownload(deps: AckDeps, f: ServerFolder, entry: ListedEntry, err: TransportError, attempts: number): Promise<ReplyOutcome> {
  const { name } = entry;
  const reason =
    attempts < MAX_DOWNLOAD_ATTEMPTS
      ? `${err.message} It will be downloaded again on the next pass (failure ${attempts} of ${MAX_DOWNLOAD_ATTEMPTS}).`
      : `${err.message} Given up after ${attempts} failed downloads; ask the receiver about it.`;
  await recordSetAside(deps.ledger, { server: f.server, name, at: deps.clock.now(), reason, body: null, fileName: null, attempts, listedBytes: entry.size });
  deps.logger.warn({ reply: name.slice(0, 120), reason }, 'reply download failed');
  return { name, result: 'set_aside', reason };
}

/**
 * A reply already read that the server lists with its size but another modification time (or
 * none was recorded): its content is hashed as it is read, and kept nowhere. The same bytes: the
 * time is recorded and nothing is said. Other bytes: it was replaced on the server (below). A
 * check that fails is logged and tried again by the next pass (nothing is recorded).
 */
export async function rechecked(deps: AckDeps, s: SftpSession, f: ServerFolder, entry: ListedEntry & { mtime: Date }, was: ReplacedReply): Promise<EntryOutcome> {
  let now: { bytes: number; sha256: string };
  try {
    now = await hashRemoteReply(s, path.posix.join(f.dir, entry.name), entry.size, f.endpoint.timeoutMs);
  } catch (err) {
    const retryable = err instanceof TransportError && err.retryable;
    if (!(err instanceof AckError || retryable)) throw err;
    // A failed download may have taken the connection with it.
    return { ...uncheckable(deps, entry, err.message), ...(retryable ? { downloadFailed: true as const } : {}) };
  }
  if (now.bytes !== entry.size) return uncheckable(deps, entry, `The reply ${path.posix.join(f.dir, entry.name)} held ${now.bytes} bytes, not the ${entry.size} listed: it is being written again.`);
  if (now.sha256 === was.sha256) {
    await recordListedTime(deps.ledger, was.replyId, entry.mtime);
    return { name: entry.name, result: 'already-processed' };
  }
  return replaced(deps, f, entry, was, { ...now, listedMtime: entry.mtime });
}

/** A reply already read whose content could not be checked this pass: logged, nothing recorded, checked again by the next pass. */
function uncheckable(deps: AckDeps, entry: ListedEntry, why: string): ReplyOutcome {
  const reason = `${why} Whether its content changed since it was read is checked again on the next pass.`;
  deps.logger.warn({ reply: entry.name.slice(0, 120), reason }, 'a reply already read could not be checked');
  return { name: entry.name, result: 'already-processed' };
}

/**
 * A reply already read that holds other content on the server: another size (from the listing),
 * or the same size and another sha256 (hashed by rechecked). Nothing of it is applied (what was
 * read stands) and it is reported once per size and content as a conflict.
 */
export async function replaced(
  deps: AckDeps,
  f: ServerFolder,
  entry: ListedEntry,
  was: ReplacedReply,
  seen: ReplacedContent = { bytes: entry.size, sha256: null, listedMtime: null },
): Promise<ReplyOutcome> {
  const first = await recordReplaced(deps.ledger, was.replyId, seen, deps.clock.now());
  if (!first) {
    // Seen already: its time is recorded all the same, so that it is not hashed again every pass.
    if (seen.listedMtime) await recordListedTime(deps.ledger, was.replyId, seen.listedMtime);
    return { name: entry.name, result: 'already-processed' };
  }
  const read = was.state === 'processed' ? 'applied' : 'recorded as a conflict';
  const reason =
    seen.sha256 === null
      ? `Replaced on the server: this reply was read on ${was.receivedAt.toISOString()} (${was.bytes} bytes, ${read}) and ${f.server} now lists ${entry.size} bytes under the same name. ` +
        `Its new content was not read and changes nothing: a reply is never applied over another of the same name. Ask the receiver what it meant; a correction comes under a new name.`
      : `Replaced on the server: this reply was read on ${was.receivedAt.toISOString()} (${was.bytes} bytes, sha256 ${shortHash(was.sha256)}, ${read}) and ${f.server} now holds other content of the same size under the same name (sha256 ${shortHash(seen.sha256)}). ` +
        `Its new content was not applied and changes nothing: a reply is never applied over another of the same name. Ask the receiver what it meant; a correction comes under a new name.`;
  deps.logger.warn({ reply: entry.name.slice(0, 120), reason }, 'reply replaced on the server (conflict)');
  return { name: entry.name, result: 'conflict', reason };
}

/** The first 16 hex digits of a sha256: enough to tell two contents apart in a sentence. */
function shortHash(sha256: string | null): string {
  return `${(sha256 ?? '').slice(0, 16)}…`;
}

/** Creates a folder 0700, or takes away what group and others may do in one that exists. */
export async function privateFolder(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (((await fs.stat(dir)).mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
}
