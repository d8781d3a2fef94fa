import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../config/config.js';
import { type Pool, withTransaction } from '../db/database.js';
import { AckError } from '../errors/errors.js';
import type { Logger } from '../log/logger.js';
import { formatBatchFileName, parseBatchFileName } from '../package/batchFileName.js';
import type { Endpoints } from '../transport/receivers.js';
import { openSftpSession, type SftpSession } from '../transport/sftpSession.js';
import type * as pkijs from 'pkijs';
import { verifyDetached } from '../sign/cms.js';
import { writeEvidencePack } from '../evidence/evidencePack.js';
import { applyReply } from './applyReply.js';
import { parseReply } from './replyXml.js';
import { unzipReply } from './unzipReply.js';

/** What reading replies needs. */
export interface AckDeps {
  ledger: Pool;
  clock: Clock;
  logger: Logger;
  endpoints: Endpoints;
  passphrase(envName: string | undefined): string | undefined;
  /** Local folder where every reply is kept (and set-aside ones, under set-aside/). */
  repliesDir: string;
  /** Largest reply accepted, bytes (zipped replies: once unzipped too). */
  maxReplyBytes: number;
  /** Where evidence packs are written when a submission reaches a final state (none when unset). */
  evidenceDir?: string;
  /** CA certificates a reply's signature must chain to; a signed reply is set aside without them. */
  trustStore?: readonly pkijs.Certificate[];
}

/** The outcome for one reply file found on a server. */
export interface ReplyOutcome {
  name: string;
  result: 'processed' | 'set_aside' | 'already-processed';
  reason?: string;
}

/**
 * Reads the reply folder (OUT for R, OUTTEST otherwise) of every receiver we sent to in that
 * environment: each FO/CO reply whose own GO is there is downloaded once, parsed safely and
 * applied to the ledger. A reply already processed is skipped; a malformed, hostile, oversized
 * or unknown one is set aside with its reason, never lost and never believed.
 */
export async function ingestReplies(deps: AckDeps, environment: Environment): Promise<ReplyOutcome[]> {
  const receivers = await deps.ledger.query<{ receiver: string }>(
    `SELECT DISTINCT receiver FROM maillon.submissions WHERE environment = $1 AND state <> 'written' ORDER BY receiver`,
    [environment],
  );
  const seen = new Set<string>();
  const outcomes: ReplyOutcome[] = [];
  for (const { receiver } of receivers.rows) {
    const endpoint = deps.endpoints.forReceiver(receiver);
    const dir = environment === 'R' ? endpoint.outDir : endpoint.outTestDir;
    const server = `${endpoint.user}@${endpoint.host}:${endpoint.port}${path.posix.resolve('/', dir)}`;
    if (seen.has(server)) continue;
    seen.add(server);
    const session = await openSftpSession(endpoint, deps.passphrase(endpoint.passphraseEnv));
    try {
      outcomes.push(...(await ingestFolder(deps, session, server, dir)));
    } finally {
      await session.close();
    }
  }
  return outcomes;
}

async function ingestFolder(deps: AckDeps, s: SftpSession, server: string, dir: string): Promise<ReplyOutcome[]> {
  const entries = await s.list(dir);
  const names = new Set(entries.map((e) => e.name));
  const out: ReplyOutcome[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!/^(FO|CO)\./.test(entry.name) && !/[\\/]|\.\./.test(entry.name)) continue;
    const known = await deps.ledger.query('SELECT 1 FROM maillon.replies WHERE server = $1 AND name = $2', [server, entry.name]);
    if (known.rowCount) {
      out.push({ name: entry.name, result: 'already-processed' });
      continue;
    }
    let goName: string;
    try {
      goName = goOf(entry.name);
    } catch (err) {
      out.push(await setAside(deps, server, entry.name, (err as Error).message));
      continue;
    }
    if (!names.has(goName)) continue; // not complete yet: its GO comes last
    if (entry.size > deps.maxReplyBytes) {
      out.push(await setAside(deps, server, entry.name, `${entry.size} bytes, over the limit of ${deps.maxReplyBytes}; not downloaded`));
      continue;
    }
    const signature = signatureOf(entry.name);
    out.push(await ingestOne(deps, s, server, dir, entry.name, names.has(signature) ? signature : null));
  }
  return out;
}

/** The name of a reply's signature file (FS companion). */
function signatureOf(name: string): string {
  return formatBatchFileName({ ...parseBatchFileName(name), kind: 'FS', parts: 1, part: 1 });
}

/** The GO of a reply, from its validated name (a name that is not a reply name is refused). */
function goOf(name: string): string {
  const n = parseBatchFileName(name);
  if (n.kind !== 'FO' && n.kind !== 'CO') throw new AckError(`"${name.slice(0, 80)}" is not a reply file name`);
  return formatBatchFileName({ ...n, kind: 'GO', parts: 1 });
}

async function ingestOne(deps: AckDeps, s: SftpSession, server: string, dir: string, name: string, signatureName: string | null): Promise<ReplyOutcome> {
  await fs.mkdir(deps.repliesDir, { recursive: true, mode: 0o700 });
  const local = path.join(deps.repliesDir, `${Date.now()}-${name}`);
  await s.fastGet(path.posix.join(dir, name), local);
  await fs.chmod(local, 0o600);
  const bytes = await fs.readFile(local);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  try {
    if (bytes.length > deps.maxReplyBytes) throw new AckError(`${bytes.length} bytes, over the limit of ${deps.maxReplyBytes}`);
    const signature = signatureName ? await verifyReplySignature(deps, s, dir, signatureName, bytes) : null;
    const text = name.startsWith('CO.') ? await unzipReply(local, deps.maxReplyBytes) : bytes.toString('utf8');
    const reply = parseReply(text, name);
    const submissionId = await withTransaction(deps.ledger, async (tx) => {
      const row = await tx.query<{ reply_id: string }>(
        `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, kind, file_name, signature)
         VALUES ($1, $2, $3, $4, $5, $6, 'processed', $7, $8, $9) RETURNING reply_id`,
        [server, name, deps.clock.now(), bytes.length, sha256, local, reply.kind, reply.fileName, signature],
      );
      const applied = await applyReply(tx, Number(row.rows[0]!.reply_id), name, deps.clock.now(), reply);
      deps.logger.info({ reply: name, kind: reply.kind, file: reply.fileName, submissionId: applied.submissionId, unmatchedAnomalies: applied.unmatched }, 'reply processed');
      return applied.submissionId;
    });
    if (deps.evidenceDir) await writeEvidencePack(deps.ledger, deps.evidenceDir, submissionId);
    return { name, result: 'processed' };
  } catch (err) {
    if (!(err instanceof AckError)) throw err;
    return setAside(deps, server, name, err.message, { local, bytes: bytes.length, sha256 });
  }
}

/** Downloads and verifies a reply's signature; throws AckError (the reply is then set aside) unless it verifies. */
async function verifyReplySignature(deps: AckDeps, s: SftpSession, dir: string, signatureName: string, bytes: Buffer): Promise<string> {
  if (!deps.trustStore?.length) throw new AckError('the reply is signed but no trust store is configured (MAILLON_TRUST_STORE): it cannot be believed');
  if ((await s.size(path.posix.join(dir, signatureName))) > 1_000_000) throw new AckError('its signature file is implausibly large');
  const local = path.join(deps.repliesDir, `${Date.now()}-${signatureName}`);
  await s.fastGet(path.posix.join(dir, signatureName), local);
  const verdict = await verifyDetached(await fs.readFile(local, 'ascii'), bytes, deps.trustStore);
  if (!verdict.ok) throw new AckError(`suspicious: its signature does not verify (${verdict.reason}); it changed nothing`);
  return `verified: signed by ${verdict.signer}`;
}

async function setAside(deps: AckDeps, server: string, name: string, reason: string, file?: { local: string; bytes: number; sha256: string }): Promise<ReplyOutcome> {
  let kept: string | null = null;
  if (file) {
    const dir = path.join(deps.repliesDir, 'set-aside');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    kept = path.join(dir, path.basename(file.local));
    await fs.rename(file.local, kept);
  }
  await deps.ledger.query(
    `INSERT INTO maillon.replies (server, name, received_at, bytes, sha256, local_path, state, reason) VALUES ($1, $2, $3, $4, $5, $6, 'set_aside', $7)
     ON CONFLICT (server, name) DO NOTHING`,
    [server, name, deps.clock.now(), file?.bytes ?? null, file?.sha256 ?? null, kept, reason],
  );
  deps.logger.warn({ reply: name.slice(0, 120), reason }, 'reply set aside');
  return { name, result: 'set_aside', reason };
}
