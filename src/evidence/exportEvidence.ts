import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import yazl from 'yazl';
import type { Environment } from '../config/config.js';
import type { Pool } from '../db/database.js';
import { readPeriodView } from '../ledger/periodView.js';
import { packFolder, writeEvidencePack } from './evidencePack.js';

/** What an export holds. */
export interface EvidenceExport {
  zip: string;
  packs: number;
  /** Submissions not final yet: their pack does not exist yet. */
  pending: { submissionId: number; state: string }[];
}

/**
 * Exports the evidence packs of a flow's period and environment as one zip, with a top-level
 * manifest listing every file and its sha256 (and the submissions still pending).
 */
export async function exportEvidence(ledger: Pool, evidenceDir: string, flow: string, period: string, env: Environment, zipPath: string): Promise<EvidenceExport> {
  const subs = (await readPeriodView(ledger, env, flow, period)).submissions;
  const zip = new yazl.ZipFile();
  const manifest: { path: string; bytes: number; sha256: string }[] = [];
  const pending: EvidenceExport['pending'] = [];
  let packs = 0;
  for (const s of subs) {
    const id = s.id;
    const folder = (await writeEvidencePack(ledger, evidenceDir, id)) ?? null;
    if (!folder) {
      pending.push({ submissionId: id, state: s.state });
      continue;
    }
    packs++;
    for (const rel of await listFiles(folder)) {
      const bytes = await fs.readFile(path.join(folder, rel));
      const entry = `submission-${id}/${rel}`;
      zip.addBuffer(bytes, entry, { mode: 0o100400 });
      manifest.push({ path: entry, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
  }
  zip.addBuffer(Buffer.from(`${JSON.stringify({ flow, period, environment: env, files: manifest, pending }, null, 2)}\n`), 'manifest.json');
  zip.end();
  const out = createWriteStream(zipPath, { mode: 0o600 });
  zip.outputStream.pipe(out);
  await finished(out);
  return { zip: zipPath, packs, pending };
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await fs.readdir(path.join(dir, prefix), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out;
}

export { packFolder };
