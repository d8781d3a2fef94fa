import fs from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../db/database.js';
import { tickIsRecent } from './heartbeat.js';

/** Whether this instance can do its work, part by part; `ok` only when every part is. */
export interface Health {
  ok: boolean;
  database: { ok: boolean; error?: string };
  outbox: { ok: boolean; path: string; error?: string };
  lastTick: { ok: boolean; at: string | null; ageSeconds: number | null };
}

/** What the health check reads. */
export interface HealthSources {
  ledger: Pool;
  outbox: string;
  tickSeconds: number;
  startedAt: Date;
  lastTickAt(): Date | null;
  now: () => Date;
}

/**
 * The database answers, the outbox takes a file (written and removed, so a full disk or a
 * read-only mount shows), and this instance's last tick is recent (three ticks, at least a
 * minute; before the first tick, counted from the start).
 */
export async function checkHealth(s: HealthSources): Promise<Health> {
  const database = await s.ledger.query('SELECT 1').then(
    () => ({ ok: true }),
    (err: Error) => ({ ok: false, error: err.message }),
  );
  const probe = path.join(s.outbox, `.maillon-health-${process.pid}`);
  const outbox = await fs
    .writeFile(probe, 'ok', { mode: 0o600 })
    .then(() => fs.rm(probe, { force: true }))
    .then(
      () => ({ ok: true, path: s.outbox }),
      (err: NodeJS.ErrnoException) => ({ ok: false, path: s.outbox, error: `${err.code ?? 'error'}: the outbox cannot be written` }),
    );
  const now = s.now();
  const last = s.lastTickAt();
  const lastTick = { ok: tickIsRecent(last ?? s.startedAt, s.tickSeconds, now), at: last?.toISOString() ?? null, ageSeconds: last ? Math.round((now.getTime() - last.getTime()) / 1000) : null };
  return { ok: database.ok && outbox.ok && lastTick.ok, database, outbox, lastTick };
}
