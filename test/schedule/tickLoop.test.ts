import { describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { runTickLoop } from '../../src/schedule/tickLoop.js';

/** A promise the test settles. */
const deferred = (): { promise: Promise<void>; resolve: () => void } => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

/** Lets every pending promise callback run (no timer involved). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/**
 * A loop whose ticks and pauses the test ends by hand: a tick is "slower than the interval" for as
 * long as the test holds it, and the pause between ticks ends when the test says the interval passed.
 */
const harness = () => {
  const events: string[] = [];
  const ticks: ReturnType<typeof deferred>[] = [];
  const pauses: ReturnType<typeof deferred>[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const stopping = new AbortController();
  let ended = false;
  const loop = runTickLoop(
    {
      intervalMs: 1000,
      logger: createLogger('silent'),
      tick: async (signal) => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        events.push(`tick ${ticks.length + 1} starts`);
        const d = deferred();
        ticks.push(d);
        await d.promise;
        running--;
        events.push(`tick ${ticks.length} ends${signal.aborted ? ' (stopping)' : ''}`);
      },
      wait: async (ms, signal) => {
        events.push(`pause ${ms} ms`);
        const d = deferred();
        pauses.push(d);
        signal.addEventListener('abort', () => d.resolve());
        await d.promise;
      },
    },
    stopping.signal,
  ).then(() => {
    ended = true;
  });
  return { events, ticks, pauses, stopping, loop, ended: () => ended, mostAtOnce: () => mostAtOnce };
};

describe('the tick loop of maillon serve', () => {
  it('runs ticks strictly one after another: a tick slower than the interval queues none behind it', async () => {
    const h = harness();
    await settle();
    // Tick 1 is still going however many intervals would have passed: nothing else starts or waits.
    expect(h.events).toEqual(['tick 1 starts']);
    h.ticks[0]!.resolve();
    await settle();
    // The interval is counted from the end of the tick; only then does the next one start.
    expect(h.events).toEqual(['tick 1 starts', 'tick 1 ends', 'pause 1000 ms']);
    h.pauses[0]!.resolve();
    await settle();
    h.ticks[1]!.resolve();
    await settle();
    h.pauses[1]!.resolve();
    await settle();
    expect(h.events).toEqual(['tick 1 starts', 'tick 1 ends', 'pause 1000 ms', 'tick 2 starts', 'tick 2 ends', 'pause 1000 ms', 'tick 3 starts']);
    expect(h.mostAtOnce()).toBe(1);
    h.stopping.abort();
    h.ticks[2]!.resolve();
    await h.loop;
  });

  it('a stop during a tick waits for that tick only, and starts no other', async () => {
    const h = harness();
    await settle();
    h.ticks[0]!.resolve();
    await settle();
    h.pauses[0]!.resolve();
    await settle();
    // Stopped in the middle of tick 2: the loop has not ended while tick 2 goes on.
    h.stopping.abort();
    await settle();
    expect(h.ended()).toBe(false);
    h.ticks[1]!.resolve();
    await h.loop;
    expect(h.events).toEqual(['tick 1 starts', 'tick 1 ends', 'pause 1000 ms', 'tick 2 starts', 'tick 2 ends (stopping)']);
  });

  it('a stop during the pause ends the loop at once', async () => {
    const h = harness();
    await settle();
    h.ticks[0]!.resolve();
    await settle();
    h.stopping.abort();
    await h.loop;
    expect(h.events).toEqual(['tick 1 starts', 'tick 1 ends', 'pause 1000 ms']);
  });

  it('a failing tick is logged and the next one still comes', async () => {
    const stopping = new AbortController();
    let calls = 0;
    const errors: unknown[] = [];
    const logger = { error: (o: unknown) => errors.push(o) } as unknown as Logger;
    await runTickLoop(
      {
        intervalMs: 1,
        logger,
        tick: () => {
          if (++calls === 2) stopping.abort();
          return Promise.reject(new Error(`tick ${calls} broke`));
        },
        wait: () => Promise.resolve(),
      },
      stopping.signal,
    );
    expect(calls).toBe(2);
    expect(errors).toHaveLength(2);
  });
});
