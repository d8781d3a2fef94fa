import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AckError, TransportError } from '../errors/errors.js';
import { formatBatchFileName } from '../package/batchFileName.js';
import type { SftpSession } from '../transport/sftpSession.js';
import { downloadReply } from './downloadReply.js';
import type { AckDeps, EntryOutcome, ListedEntry, ServerFolder } from './ingestReplies.js';
import { parseReplyName, type ReplyName } from './listedName.js';
import { processReply } from './processReply.js';
import { writeReplyEvidence } from './replyEvidence.js';
import type { KeptBody } from './replyLedger.js';
import { failedDownload, rechecked, replaced, setAside } from './replyOutcomes.js';
import { replySettings, replyStanding } from './replyStanding.js';

/** One listed name: its outcome, or null when it is not complete yet (no GO). */
export async function ingestEntry(deps: AckDeps, s: SftpSession, f: ServerFolder, entry: ListedEntry, listed: Map<string, ListedEntry>): Promise<EntryOutcome | null> {
  const settings = replySettings(deps);
  const standing = await replyStanding(deps.ledger, f.server, { ...entry, companionListed: listed.has(companionOf(entry.name)), reread: deps.reread?.has(entry.name) ?? false }, settings);
  if (!standing.read) {
    if (standing.replaced) return replaced(deps, f, entry, standing.replaced);
    if (standing.recheck && entry.mtime) return rechecked(deps, s, f, { ...entry, mtime: entry.mtime }, standing.recheck);
    return { name: entry.name, result: 'already-processed' };
  }
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
    const prefix = localPrefix(deps);
    const signaturePath = signature ? (await download(deps, s, f, signature.name, 1_000_000, prefix)).localPath : null;
    body = await downloadBeside(deps, s, f, entry.name, prefix, signaturePath);
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
      listedMtime: entry.mtime,
    });
    if (applied === 'duplicate') {
      for (const kept of [body.localPath, body.signaturePath]) if (kept) await fs.rm(kept, { force: true }); // another instance kept its own copy
      return { name: entry.name, result: 'already-processed' };
    }
    if (applied.state === 'conflict') {
      // A conflict recorded after the submission's pack (a contradicting NOTI, a replay, an answer after a cancel) gets its addendum.
      const evidence = await writeReplyEvidence(deps, entry.name, { submissionId: applied.submissionId });
      deps.logger.warn({ reply: entry.name, submissionId: applied.submissionId, reason: applied.reason }, 'reply not believed (conflict)');
      return { name: entry.name, result: 'conflict', reason: applied.reason, ...evidence };
    }
    deps.logger.info({ reply: entry.name, submissionId: applied.submissionId, unmatchedAnomalies: applied.unmatched, state: applied.submissionState?.to }, 'reply processed');
    // A pack that cannot be written is reported in the outcome: the reply is recorded, the next one is read.
    return { name: entry.name, result: 'processed', ...(await writeReplyEvidence(deps, entry.name, { submissionId: applied.submissionId })) };
  } catch (err) {
    if (err instanceof AckError) return setAside(deps, f, entry, err, body);
    if (err instanceof TransportError && err.retryable) {
      return { ...(await failedDownload(deps, f, entry, err, standing.failedDownloads + 1)), downloadFailed: true };
    }
    throw err;
  }
}

/** Refuses, from the listing, what must not be downloaded: not a regular file, or over the limit. */
function screen(entry: ListedEntry, maxBytes: number, what = 'it'): void {
  const kinds: Record<string, string> = { d: 'a directory', l: 'a symbolic link', p: 'a pipe', s: 'a socket', b: 'a device', c: 'a device' };
  if (entry.type !== '-') throw new AckError(`${what === 'it' ? 'It' : `${what} (${entry.name})`} is ${kinds[entry.type] ?? 'not a regular file'}, not a regular file: not downloaded.`);
  if (entry.size > maxBytes) {
    // The reply's own limit is MAILLON_MAX_REPLY_BYTES: raised, the reply is read again; its companion's is fixed.
    throw new AckError(`${what === 'it' ? '' : `${what}: `}${entry.size} bytes, over the limit of ${maxBytes}; not downloaded.`, what === 'it' ? { dependsOn: 'max_reply_bytes' } : {});
  }
}

/** `<instant>-<random>`: what a reply's local name and its companion's start with. */
function localPrefix(deps: AckDeps): string {
  return `${deps.clock.now().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

/**
 * Downloads a reply beside its signature companion (already downloaded under the same prefix): the
 * companion is then kept, moved or removed with the reply's body; when the body cannot be
 * downloaded, it is removed (a later pass downloads both again).
 */
async function downloadBeside(deps: AckDeps, s: SftpSession, f: ServerFolder, name: string, prefix: string, signaturePath: string | null): Promise<KeptBody> {
  try {
    return { ...(await download(deps, s, f, name, deps.maxReplyBytes, prefix)), ...(signaturePath ? { signaturePath } : {}) };
  } catch (err) {
    if (signaturePath) await fs.rm(signaturePath, { force: true });
    throw err;
  }
}

async function download(deps: AckDeps, s: SftpSession, f: ServerFolder, name: string, maxBytes: number, prefix: string): Promise<KeptBody> {
  const local = path.join(deps.repliesDir, `${prefix}-${name}`);
  return downloadReply(s, path.posix.join(f.dir, name), local, maxBytes, f.endpoint.timeoutMs);
}

/** The name of a reply's signature companion: FS, with the part count and number (FO.ACRF.….T → FS.ACRF.….T.1.1). */
function companionOf(name: string): string {
  return `FS.${name.slice(3)}.1.1`;
}
