import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';

/** Waits `ms` milliseconds, or less once the signal is aborted; never rejects. */
export type Wait = (ms: number, signal: AbortSignal) => Promise<void>;

const timerWait: Wait = (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined);

/** What the tick loop needs. */
export interface TickLoopDeps {
  /** One tick; once the signal is aborted it stops between its steps. A failure is logged and the next tick comes. */
  tick(signal: AbortSignal): Promise<void>;
  /** Pause between the end of one tick and the start of the next, ms. */
  intervalMs: number;
  logger: Logger;
  /** How the pause is waited (a timer; the tests count the pauses instead). */
  wait?: Wait;
}

/**
 * Runs ticks one at a time until the signal is aborted: each starts `intervalMs` after the
 * previous one ended, so a tick slower than the interval (a server that does not answer) delays
 * the next one instead of queueing ticks behind it for a stop to run. Resolves once the tick in
 * flight when the signal was aborted has ended; no tick starts after that.
 */
export async function runTickLoop(deps: TickLoopDeps, signal: AbortSignal): Promise<void> {
  const wait = deps.wait ?? timerWait;
  while (!signal.aborted) {
    await deps.tick(signal).catch((err: unknown) => deps.logger.error({ err }, 'tick failed'));
    if (!signal.aborted) await wait(deps.intervalMs, signal);
  }
}
