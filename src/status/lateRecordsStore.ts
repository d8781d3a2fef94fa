import type { Pool } from '../db/database.js';
import type { Environment } from '../domain/environment.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { readDossierVersion } from '../engine/heldPlan.js';
import { type LateRecords, readLateRecords } from '../reconcile/lateRecords.js';

/** A period whose late records are counted: a flow with `extract.keysSql`, run and claiming to be complete. */
export interface LateCandidate {
  pipeline: AnyPipeline;
  period: string;
  environment: Environment;
  /** Its successful non-dry runs: the lineage the dossier's keys are checked against. */
  succeededRuns: readonly number[];
}

/**
 * The late-record counts of serve's page and /metrics, kept between requests. Counting a period
 * reads all its dossier keys (src/reconcile/lateRecords.ts): done for every period of the window
 * at each request, a page or a scrape cost seconds at bench scale. The count only changes when
 * the dossier changes (its change counter, dossier migration 007) or when the period's successful
 * runs change, so:
 * - `refresh` (serve's tick) counts again every period whose dossier version or runs changed;
 * - `read` (a page, /status.json, a scrape) answers the counts as stored, and counts now only a
 *   period never counted or whose successful runs changed since (a run just ended): no dossier
 *   query at all otherwise, whatever the number of days.
 * A dossier change is thus seen at the next tick. `maillon status` and `maillon report` count
 * directly, as before.
 */
export interface LateRecordsStore {
  refresh(candidates: readonly LateCandidate[]): Promise<void>;
  read(candidates: readonly LateCandidate[]): Promise<Map<string, LateRecords | null>>;
}

interface Entry {
  /** The dossier's change counter when counted; null: the dossier has none (counted at every refresh). */
  version: string | null;
  runs: string;
  late: Promise<LateRecords | null>;
}

/** The key of a candidate in the store and in `read`'s answer. */
export function lateKey(c: { pipeline: { id: string }; period: string; environment: string }): string {
  return `${c.pipeline.id} ${c.period} ${c.environment}`;
}

export function createLateRecordsStore(dossier: Pool, ledger: Pool): LateRecordsStore {
  const entries = new Map<string, Entry>();
  const count = (c: LateCandidate, version: string | null): Entry => {
    const key = lateKey(c);
    const entry: Entry = { version, runs: c.succeededRuns.join(','), late: readLateRecords(dossier, ledger, c.pipeline, c.period, c.environment) };
    entries.set(key, entry);
    // A failed count is not kept: the next request or tick counts again.
    entry.late.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    return entry;
  };
  // One period at a time, as before: a recount does not take every connection of the pool.
  const answer = async (
    candidates: readonly LateCandidate[],
    kept: (c: LateCandidate, e: Entry | undefined) => boolean,
    version: () => Promise<string | null>,
  ): Promise<Map<string, LateRecords | null>> => {
    const out = new Map<string, LateRecords | null>();
    for (const c of candidates) {
      const e = entries.get(lateKey(c));
      out.set(lateKey(c), await (e && kept(c, e) ? e : count(c, await version())).late);
    }
    return out;
  };
  const sameRuns = (c: LateCandidate, e: Entry | undefined): boolean => e?.runs === c.succeededRuns.join(',');
  return {
    async refresh(candidates) {
      const version = await readDossierVersion(dossier);
      const wanted = new Set(candidates.map(lateKey));
      for (const key of entries.keys()) if (!wanted.has(key)) entries.delete(key);
      await answer(
        candidates,
        (c, e) => version !== null && e?.version === version && sameRuns(c, e),
        () => Promise.resolve(version),
      );
    },
    async read(candidates) {
      // The dossier's version is read only when a period has to be counted now.
      let version: Promise<string | null> | null = null;
      return answer(candidates, sameRuns, () => (version ??= readDossierVersion(dossier)));
    },
  };
}
