import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import yazl from 'yazl';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../domain/environment.js';
import type { Pool } from '../db/database.js';
import { type EvidenceMismatchError, UsageError } from '../errors/errors.js';
import { readPeriodView } from '../ledger/periodView.js';
import { checkOutputFolder } from '../system/outputFile.js';
import { type MovedAside, packFolder, writeEvidencePack } from './evidencePack.js';
import { addendaFolder, addendumReplyId } from './replyAddenda.js';
import { hashing, type ManifestEntry } from './packWriter.js';
import { sweepStaleTemps } from './staleTemps.js';
import { expectedHashes, ledgerHashes, listFiles, packMismatch } from './verifyPack.js';

/** zlib level of the entries (see writeZip). */
const COMPRESSION_LEVEL = 1;

/** One file to zip: where it is, its name in the zip, and (for a pack's file) the pack and the sha256 its manifest gives it. */
interface ZipEntry {
  file: string;
  entry: string;
  check?: { pack: string; rel: string; sha256: string };
}

/**
 * A pack's (or addendum's) manifest as the export's manifest lists it: its folder in the zip, the
 * sha256 of its manifest.json, and the ledger event that anchored it (null: a pack written before
 * maillon anchored packs, checked against its own manifest only).
 */
export interface ExportedAnchor {
  pack: string;
  manifest: string;
  event: { id: number; hash: string } | null;
}

/** What an export holds. */
export interface EvidenceExport {
  zip: string;
  packs: number;
  /** Submissions not final yet: their pack does not exist yet. */
  pending: { submissionId: number; state: string }[];
  /** Folders of the packs and addenda exported without an anchor in the ledger (written before maillon anchored them). */
  unanchored: string[];
  /** Folders of another submission found under a pack's name (ids that started again after a restore), moved into `.orphans/`. */
  movedAside: MovedAside[];
}

/**
 * Exports the evidence packs of a flow's period and environment as one zip, with a top-level
 * manifest listing every file and its sha256 (and the submissions still pending). Streamed: each
 * file is read once, hashed on its way into the zip, and written out as it goes; the manifest,
 * the last entry, is made when every hash is known, with the anchor of each pack's manifest.json
 * (ExportedAnchor). Memory does not grow with the packs. Each pack is checked against its own
 * manifest and the ledger (verifyPack.ts) before, and each file's bytes (its manifest.json's too)
 * against the sha256 so checked as they are zipped: a pack that does not match is refused
 * (EvidenceMismatchError naming the pack and the file) and nothing is exported. An export
 * is never replaced: an existing `zipPath` is refused (UsageError), before any work and again at
 * the end, and no partial zip is ever left under that name. A folder that cannot take it (absent,
 * not a folder, not writable) is refused before any work too (UsageError naming the path).
 */
export async function exportEvidence(ledger: Pool, evidenceDir: string, flow: string, period: string, env: Environment, zipPath: string, clock: Clock): Promise<EvidenceExport> {
  refuseExisting(zipPath);
  await checkOutputFolder(zipPath);
  // The temporary zips of exports to the same name that were killed before they could remove them.
  await sweepStaleTemps(path.dirname(zipPath), tempZipName(zipPath), clock);
  const subs = (await readPeriodView(ledger, env, flow, period)).submissions;
  const entries: ZipEntry[] = [];
  const anchors: ExportedAnchor[] = [];
  const unanchored: string[] = [];
  const pending: EvidenceExport['pending'] = [];
  const movedAside: MovedAside[] = [];
  let packs = 0;
  for (const s of subs) {
    const id = s.id;
    const folder = (await writeEvidencePack(ledger, evidenceDir, id, clock, (m) => movedAside.push(m))) ?? null;
    if (!folder) {
      pending.push({ submissionId: id, state: s.state });
      continue;
    }
    packs++;
    const pack = await packEntries(ledger, folder, id);
    entries.push(...pack.entries);
    anchors.push(...pack.anchors);
    unanchored.push(...pack.unanchored);
  }
  await writeZip(zipPath, entries, (files) => Buffer.from(`${JSON.stringify({ flow, period, environment: env, files, pending, anchors }, null, 2)}\n`));
  return { zip: zipPath, packs, pending, unanchored, movedAside };
}

/**
 * The files of a submission's pack and of its addenda, each checked (verifyPack.ts) and given
 * the sha256 it must have, and the anchor of each one's manifest; refused when a reply the ledger
 * holds about the submission is in none.
 */
async function packEntries(ledger: Pool, folder: string, id: number): Promise<{ entries: ZipEntry[]; anchors: ExportedAnchor[]; unanchored: string[] }> {
  const hashes = await ledgerHashes(ledger, id);
  const out: ZipEntry[] = [];
  const anchors: ExportedAnchor[] = [];
  const unanchored: string[] = [];
  // `prefix`, the folder in the zip, is also the name the ledger's anchor gives the pack.
  const add = async (dir: string, prefix: string, sentAll: boolean): Promise<string[]> => {
    const { files, replyIds, manifest } = await expectedHashes(dir, hashes, { sentAll, pack: prefix });
    anchors.push({ pack: prefix, manifest: manifest.sha256, event: manifest.anchor && { id: manifest.anchor.eventId, hash: manifest.anchor.hash } });
    if (!manifest.anchor) unanchored.push(dir);
    for (const rel of await listFiles(dir)) {
      const sha256 = rel === 'manifest.json' ? manifest.sha256 : files.get(rel);
      out.push({ file: path.join(dir, rel), entry: `${prefix}/${rel}`, ...(sha256 ? { check: { pack: dir, rel, sha256 } } : {}) });
    }
    return replyIds;
  };
  const carried = new Set(await add(folder, `submission-${id}`, true));
  const addenda = addendaFolder(folder);
  const names = existsSync(addenda) ? (await fs.readdir(addenda)).filter((n) => !n.startsWith('.')) : [];
  for (const name of names.sort((a, b) => Number(addendumReplyId(a)) - Number(addendumReplyId(b)))) {
    const replyId = addendumReplyId(name);
    const dir = path.join(addenda, name);
    const held = await add(dir, `submission-${id}.addenda/${name}`, false);
    if (replyId === null || held.length !== 1 || held[0] !== replyId) throw packMismatch(dir, 'replies.json', `what an addendum holds: the one reply its name says, reply #${replyId ?? '?'}`);
    if (carried.has(replyId)) throw packMismatch(dir, 'replies.json', `what an addendum holds: a reply recorded after the pack, and the pack already carries reply #${replyId}`);
    carried.add(replyId);
  }
  for (const [replyId, name] of hashes.replyNames) {
    if (!carried.has(replyId)) throw packMismatch(folder, name, `the ledger: the ledger holds reply #${replyId} (${name}) about this submission, and neither the pack nor an addendum carries it`);
  }
  return { entries: out, anchors, unanchored };
}

function refuseExisting(zipPath: string): void {
  if (existsSync(zipPath)) throw new UsageError(`${zipPath} already exists: an evidence export is never replaced. Move it away, or give another --out.`);
}

/** The temporary names of the zips of exports to `zipPath` (writeZip). */
function tempZipName(zipPath: string): RegExp {
  return new RegExp(`^\\.${path.basename(zipPath).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f]{8}\\.tmp$`);
}

/**
 * Writes the zip under a temporary name beside `zipPath` (0600), fsyncs it and links it to its
 * final name, which fails rather than replace a file that appeared meanwhile; the temporary name is
 * removed whatever happens. A failed export leaves nothing behind.
 */
async function writeZip(zipPath: string, entries: readonly ZipEntry[], manifest: (files: ManifestEntry[]) => Buffer): Promise<void> {
  const tmp = path.join(path.dirname(zipPath), `.${path.basename(zipPath)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await streamZip(tmp, entries, manifest);
    const handle = await fs.open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.link(tmp, zipPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') refuseExisting(zipPath);
      throw err;
    }
    const dir = await fs.open(path.dirname(zipPath), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/**
 * Streams the zip to `target`: every file in turn (yazl opens each only when its turn comes), then
 * manifest.json from the hashes taken on the way. Deflated at level 1: XML shrinks about as much
 * as at the default level, several times faster.
 */
async function streamZip(target: string, entries: readonly ZipEntry[], manifest: (files: ManifestEntry[]) => Buffer): Promise<void> {
  const zip = new yazl.ZipFile();
  const out = createWriteStream(target, { mode: 0o600, flags: 'wx' });
  const failed = new Promise<never>((_, reject) => {
    zip.on('error', reject);
    out.on('error', reject);
  });
  const written = finished(zip.outputStream.pipe(out));
  const files: ManifestEntry[] = [];
  let mismatch: EvidenceMismatchError | undefined;
  for (const { file, entry, check } of entries) {
    zip.addReadStreamLazy(entry, { mode: 0o100400, compressionLevel: COMPRESSION_LEVEL }, (cb) => {
      const hashed = hashing();
      const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
      // yazl does not watch the stream it is given: a read error ends the export here.
      source.on('error', (err) => zip.emit('error', err));
      hashed.stream.on('end', () => {
        const found = hashed.result();
        files.push({ path: entry, ...found });
        // Checked in the pass that zips it: the bytes are read once.
        if (check && found.sha256 !== check.sha256) {
          mismatch =
            check.rel === 'manifest.json'
              ? packMismatch(
                  check.pack,
                  check.rel,
                  `the ledger: its manifest.json has the sha256 ${found.sha256}, it had ${check.sha256} when it was checked against the ledger (changed during the export)`,
                )
              : packMismatch(check.pack, check.rel, `its manifest: ${check.rel} has the sha256 ${found.sha256}, its manifest.json says ${check.sha256} (changed after the pack was written)`);
          zip.emit('error', mismatch);
        }
      });
      cb(null, source.pipe(hashed.stream));
    });
  }
  zip.addReadStreamLazy('manifest.json', { compressionLevel: COMPRESSION_LEVEL }, (cb) => cb(null, Readable.from([manifest(files)])));
  zip.end();
  try {
    await Promise.race([written, failed]);
  } catch (err) {
    out.destroy();
    throw err;
  }
  if (mismatch) throw mismatch;
}

export { packFolder };
