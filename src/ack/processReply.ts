import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import pg from 'pg';
import type * as pkijs from 'pkijs';
import { DEFAULT_MAX_UNZIPPED_BYTES } from '../config/config.js';
import { type Pool, withTransaction } from '../db/database.js';
import { AckError } from '../errors/errors.js';
import { verifyDetached } from '../sign/cms.js';
import { createAnomalyStage } from './anomalyStage.js';
import { libraryProblem } from './libraryProblem.js';
import { type AppliedReply, applyReply, type ReplySource } from './applyReply.js';
import { readReply, type ReplyHeader, type ReplyKind } from './replyXml.js';
import { openZippedReply } from './unzipReply.js';

/** A downloaded reply, ready to be read. */
export interface DownloadedReply extends Omit<ReplySource, 'signature'> {
  zipped: boolean;
  /** What its name says it is (ACRF or NOTI): the document must be that. */
  purpose: ReplyKind;
  /** Its signature companion (FS), downloaded, or null when it came without one. */
  signaturePath: string | null;
}

/** What reading one reply needs. */
export interface ProcessDeps {
  ledger: Pool;
  /** Largest content of a zipped (CO) reply once unzipped (MAILLON_MAX_UNZIPPED_BYTES; DEFAULT_MAX_UNZIPPED_BYTES when not given). */
  maxUnzippedBytes?: number;
  trustStore?: readonly pkijs.Certificate[];
}

/**
 * Reads a downloaded reply and applies it in one transaction: the document is parsed as it is
 * read (unzipped first for CO), its anomalies streamed into the ledger; then its signature, if
 * it has one, is verified; then applyReply records it as applied or as a conflict. Whatever in
 * the reply makes this fail (its archive, its XML, its values, its signature, a value PostgreSQL
 * refuses) is an AckError and nothing of it stays; 'duplicate' means another instance recorded
 * the same reply meanwhile. Other failures (the database gone, our own disk) are thrown as they are.
 */
export async function processReply(deps: ProcessDeps, reply: DownloadedReply): Promise<AppliedReply | 'duplicate'> {
  try {
    return await withTransaction(deps.ledger, async (tx) => {
      const stage = createAnomalyStage(tx);
      let header: ReplyHeader;
      try {
        const input = reply.zipped ? await openZippedReply(reply.body.localPath, deps.maxUnzippedBytes ?? DEFAULT_MAX_UNZIPPED_BYTES, reply.name) : createReadStream(reply.body.localPath);
        header = await readReply(input, reply.name, (a) => stage.add(a));
        await stage.end();
      } catch (err) {
        await stage.abort(err as Error);
        throw err;
      }
      if (header.kind !== reply.purpose) {
        throw new AckError(`The reply ${reply.name} is named ${reply.purpose} but holds ${article(header.kind)}; it changed nothing and was set aside.`, { fileName: header.fileName });
      }
      const signature = reply.signaturePath ? await verifySignature(deps, reply, header.fileName) : refuseUnsigned(deps, reply, header.fileName);
      return applyReply(tx, { ...reply, signature }, header, stage);
    });
  } catch (err) {
    if (!(err instanceof pg.DatabaseError)) throw err;
    if (err.code === '23505' && err.constraint === 'replies_server_name_key') return 'duplicate';
    // Class 22, data exception: a value of the reply that the ledger cannot hold.
    if (err.code?.startsWith('22'))
      throw new AckError(`The reply ${reply.name} holds a value the ledger refuses (${libraryProblem(err.message, `PostgreSQL error ${err.code}`)}); it was set aside.`, { cause: err });
    throw err;
  }
}

/**
 * An unsigned reply is believed only in test or simulation with no trust store configured: the
 * institutions sign their replies (domain.md §2), so once a trust store says whose signatures
 * count, and always in production (OUT), a reply without its FS companion may have lost it on the
 * way (signature stripping) and is set aside. It is read again when its companion appears or the
 * trust store changes (maillon acks --reread reads it again at once).
 */
function refuseUnsigned(deps: ProcessDeps, reply: DownloadedReply, fileName: string): null {
  if (reply.folder !== 'OUT' && !deps.trustStore?.length) return null;
  const why = reply.folder === 'OUT' ? 'a production reply (OUT) must be signed' : 'a trust store is configured (MAILLON_TRUST_STORE), so a reply must be signed';
  throw new AckError(
    `The reply ${reply.name} came without a signature (no FS companion before its GO) and ${why}: it cannot be believed, changed nothing and was set aside. Once the receiver sends it signed, it is read again.`,
    { fileName, dependsOn: 'signature' },
  );
}

/** Verifies a reply's signature over the exact bytes received; throws AckError (naming the file the reply is about) unless it verifies. */
async function verifySignature(deps: ProcessDeps, reply: DownloadedReply, fileName: string): Promise<string> {
  if (!deps.trustStore?.length) {
    throw new AckError(`The reply ${reply.name} is signed but no trust store is configured (MAILLON_TRUST_STORE): it cannot be believed and was set aside; it is read again once one is.`, {
      fileName,
      dependsOn: 'trust_store',
    });
  }
  const verdict = await verifyDetached(await fs.readFile(reply.signaturePath!, 'ascii'), reply.body.localPath, deps.trustStore);
  if (!verdict.ok) {
    throw new AckError(`The reply ${reply.name} is suspicious: its signature does not verify (${verdict.reason}); it changed nothing and was set aside.`, { fileName, dependsOn: 'trust_store' });
  }
  return `verified: signed by ${verdict.signer}`;
}

/** "an ACRF", "a NOTI". */
function article(kind: ReplyKind): string {
  return kind === 'ACRF' ? 'an ACRF' : 'a NOTI';
}
