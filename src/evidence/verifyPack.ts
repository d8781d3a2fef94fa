import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { EvidenceMismatchError } from '../errors/errors.js';
import { manifestSha256, type PackAnchor, type PackAnchors, readPackAnchors } from './packAnchor.js';

/** What the ledger says a pack must hold: the sha256 of each sent file, by name, and of each reply, by id (null: none recorded). */
export interface LedgerHashes {
  sent: ReadonlyMap<string, string>;
  replies: ReadonlyMap<string, string | null>;
  /** The name of each reply, by id. */
  replyNames: ReadonlyMap<string, string>;
  /** The manifests the ledger anchored for the submission's pack and addenda. */
  anchors: PackAnchors;
}

/** What the check of a pack found: the sha256 each file must have, the replies it holds, its manifest's sha256 and the ledger's anchor of it (null: none, a pack written before maillon anchored them). */
export interface CheckedPack {
  files: Map<string, string>;
  replyIds: string[];
  manifest: { sha256: string; anchor: PackAnchor | null };
}

const Manifest = z.array(z.object({ path: z.string(), bytes: z.number(), sha256: z.string() }));
const Replies = z.array(z.object({ reply_id: z.string(), name: z.string(), entry: z.string().nullable() }).passthrough());

const FIX =
  'Nothing was exported. A pack is never rewritten: restore the folder from a backup, or move it away and export again (maillon writes it anew from the ledger, if the outbox still holds the bytes sent).';

/** The refusal of a pack that does not match `why` (its manifest…, the ledger…), naming the pack and the file. */
export function packMismatch(folder: string, file: string, why: string): EvidenceMismatchError {
  return new EvidenceMismatchError(folder, file, `The evidence pack ${folder} does not match ${why}. ${FIX}`);
}

/**
 * The files of a pack (or an addendum) the export may zip, each with the sha256 it must have,
 * after checking, without reading the files' bytes: the folder holds exactly the files its
 * manifest.json lists; each `sent/` file the manifest lists has the sha256 the ledger recorded,
 * and `sent` lists every file of the ledger when `sent` is given; each reply body listed in
 * replies.json has the sha256 the ledger recorded for that reply; manifest.json itself has a sha256
 * the ledger anchored for the pack named `pack` (checkAnchor). The export then checks each
 * file's bytes against the sha256 returned as it zips them. Returns the reply ids the pack holds.
 * Throws EvidenceMismatchError naming the pack and the file.
 */
export async function expectedHashes(folder: string, ledger: LedgerHashes, opts: { sentAll: boolean; pack: string }): Promise<CheckedPack> {
  const refuse = (file: string, why: string): never => {
    throw packMismatch(folder, file, why);
  };
  const { value: manifest, bytes } = await readJson(folder, 'manifest.json', Manifest, refuse);
  const files = new Map(manifest.map((e) => [e.path, e.sha256]));
  const onDisk = new Set((await listFiles(folder)).filter((f) => f !== 'manifest.json'));
  for (const f of onDisk) if (!files.has(f)) refuse(f, `its manifest: ${f} is in the folder but not in manifest.json (added after the pack was written)`);
  for (const f of files.keys()) if (!onDisk.has(f)) refuse(f, `its manifest: ${f} is listed in manifest.json but not in the folder (removed after the pack was written)`);
  for (const [rel, sha] of files) {
    if (!rel.startsWith('sent/')) continue;
    const name = rel.slice('sent/'.length);
    const recorded = ledger.sent.get(name);
    if (recorded === undefined) refuse(rel, `the ledger: it holds ${rel}, a file the ledger does not list for this submission`);
    if (recorded !== sha) refuse(rel, `the ledger: its manifest gives ${rel} the sha256 ${sha}, the ledger recorded ${recorded} when it was written`);
  }
  if (opts.sentAll) for (const name of ledger.sent.keys()) if (!files.has(`sent/${name}`)) refuse(`sent/${name}`, `the ledger: the ledger lists ${name} as sent, the pack does not hold it`);
  const replies = files.has('replies.json') ? (await readJson(folder, 'replies.json', Replies, refuse)).value : [];
  for (const r of replies) {
    if (!ledger.replies.has(r.reply_id)) refuse('replies.json', `the ledger: it lists reply #${r.reply_id} (${r.name}), which the ledger does not hold about this submission`);
    const recorded = ledger.replies.get(r.reply_id);
    if (r.entry === null || recorded === null || recorded === undefined) continue;
    const listed = files.get(r.entry);
    if (listed !== recorded) refuse(r.entry, `the ledger: the body of reply #${r.reply_id} (${r.name}) has the sha256 ${listed ?? 'of no file'}, the ledger recorded ${recorded} when it received it`);
  }
  // Last: a sent file or reply body the ledger contradicts is named before the manifest that lists it.
  const sha256 = manifestSha256(bytes);
  const anchor = await checkAnchor(sha256, ledger.anchors, opts.pack, refuse);
  return { files, replyIds: replies.map((r) => r.reply_id), manifest: { sha256, anchor } };
}

/**
 * The ledger's anchor of the pack `pack` whose manifest.json has the sha256 `sha256`. Refuses a
 * manifest the ledger anchored otherwise (rewritten: every file it lists may have been changed
 * with it), and a pack without anchor when the ledger anchored every pack since before its
 * submission became final. Null for a pack without anchor written before maillon anchored packs.
 */
async function checkAnchor(sha256: string, anchors: PackAnchors, pack: string, refuse: (file: string, why: string) => never): Promise<PackAnchor | null> {
  const recorded = anchors.byPack.get(pack) ?? [];
  const anchor = recorded.find((a) => a.manifest === sha256);
  if (anchor) return anchor;
  if (recorded.length > 0) {
    const was = recorded.map((a) => `${a.manifest} (event #${a.eventId})`).join(' or ');
    refuse(
      'manifest.json',
      `the ledger: its manifest.json has the sha256 ${sha256}, the ledger recorded ${was} when it was written (the manifest was rewritten, so any file it lists may have been changed with it)`,
    );
  }
  const required = await anchors.required();
  if (required) {
    const { firstAnchor, final } = required;
    refuse(
      'manifest.json',
      `the ledger: the ledger recorded no manifest for it, although it recorded the manifest of every pack maillon wrote since event #${firstAnchor}, before this submission became final (event #${final})`,
    );
  }
  return null;
}

async function readJson<T>(folder: string, file: string, schema: z.ZodType<T>, refuse: (file: string, why: string) => never): Promise<{ value: T; bytes: Buffer }> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path.join(folder, file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') refuse(file, `what a pack holds: it has no ${file}`);
    throw err;
  }
  try {
    return { value: schema.parse(JSON.parse(bytes.toString('utf8'))), bytes };
  } catch {
    return refuse(file, `what a pack holds: its ${file} is not the list maillon writes`);
  }
}

/** Every file under `dir`, relative, `/`-separated, in name order. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await fs.readdir(path.join(dir, prefix), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/** The sha256 the ledger recorded for a submission's files, for every reply about its data files, and for the manifests of its packs. */
export async function ledgerHashes(ledger: Pool, submissionId: number): Promise<LedgerHashes> {
  const files = await queryRows(ledger, `SELECT name, sha256 FROM maillon.files WHERE submission_id = $1`, [submissionId], z.object({ name: z.string(), sha256: z.string() }));
  const replies = await queryRows(
    ledger,
    `SELECT reply_id, name, sha256 FROM maillon.replies WHERE file_name IN (SELECT name FROM maillon.files WHERE submission_id = $1 AND kind = 'FI') ORDER BY reply_id`,
    [submissionId],
    z.object({ reply_id: z.string(), name: z.string(), sha256: z.string().nullable() }),
  );
  return {
    sent: new Map(files.map((f) => [f.name, f.sha256])),
    replies: new Map(replies.map((r) => [r.reply_id, r.sha256])),
    replyNames: new Map(replies.map((r) => [r.reply_id, r.name])),
    anchors: await readPackAnchors(ledger, submissionId),
  };
}
