import type { Pool, PoolClient } from '../db/database.js';

// A rerun that holds its plan: the run is computed once, shown, and sent as it was shown when the
// operator confirms it and the dossier has not changed since its extraction
// (docs/decisions/0021-rerun-kept-plan.md).

/** The dossier's change counter (dossier migration 007), or null when the dossier has none (it is then taken as changed). */
export async function readDossierVersion(dossier: Pool): Promise<string | null> {
  try {
    const res = await dossier.query<{ version: string }>('SELECT version::text AS version FROM dossier.changes');
    return res.rows[0]?.version ?? null;
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return null;
    throw err;
  }
}

/** What becomes of a held run once its plan was shown. */
export type HeldOutcome = 'send' | 'declined' | 'stale';

/**
 * Decides a held run after its plan was shown: declined by the operator (or nothing to send), stale
 * when the dossier's counter moved since the extraction (or cannot be read), else sent — and the
 * run, recorded as a dry run until then, becomes the real one in the transaction that publishes it.
 */
export async function settleHeldRun(session: PoolClient, dossier: Pool, runId: number, confirmed: boolean, versionAtExtraction: string | null): Promise<HeldOutcome> {
  if (!confirmed) return 'declined';
  if (versionAtExtraction === null || (await readDossierVersion(dossier)) !== versionAtExtraction) return 'stale';
  await session.query('UPDATE maillon.runs SET dry_run = false WHERE run_id = $1', [runId]);
  return 'send';
}
