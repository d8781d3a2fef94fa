import fs from 'node:fs/promises';
import path from 'node:path';
import type { AckError, TransportError } from '../errors/errors.js';
import { writeEvidenceOfFile } from '../evidence/evidencePack.js';
import type { AckDeps, ListedEntry, ReplyOutcome, ServerFolder } from './ingestReplies.js';
import { type KeptBody, recordReplaced, recordSetAside } from './replyLedger.js';
import { dependencyValue, MAX_DOWNLOAD_ATTEMPTS, type ReplacedReply, replySettings } from './replyStanding.js';

/** A reply not read, or read and refused: its body (if any) kept under set-aside/, recorded with the reason, and reported. */
export async function setAside(deps: AckDeps, f: ServerFolder, entry: ListedEntry, err: AckError, body: KeptBody | null): Promise<ReplyOutcome> {
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
 * A reply already read that the server now lists with another size: other content under the same
 * name. It is not read (what was applied stands) and is reported once per size as a conflict.
 */
export async function replaced(deps: AckDeps, f: ServerFolder, entry: ListedEntry, was: ReplacedReply): Promise<ReplyOutcome> {
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
export async function privateFolder(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (((await fs.stat(dir)).mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
}
