import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TransportError } from '../../src/errors/errors.js';
import { withStallTimeout } from '../../src/transport/sftpSession.js';

/** A transfer that reports progress every `every` ms, `times` times, then resolves (or stops reporting: never resolves). */
function transfer(every: number, times: number, then: 'finish' | 'stall'): (progress: () => void) => Promise<string> {
  return (progress) =>
    new Promise((resolve) => {
      let n = 0;
      const tick = setInterval(() => {
        if (n++ < times) return progress();
        clearInterval(tick);
        if (then === 'finish') resolve('done');
      }, every);
    });
}

describe('the timeout of a transfer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a large file take many times the timeout as long as it keeps moving', async () => {
    // 20 progress reports 600 ms apart: 12 s in all under a 1 s timeout (an 820 MB upload under 30 s).
    const moving = withStallTimeout(transfer(600, 20, 'finish'), 1000, 'upload of a large file');
    await vi.advanceTimersByTimeAsync(13_000);
    await expect(moving).resolves.toBe('done');
  });

  it('fails a transfer that stops moving, once the timeout has passed without progress, as retryable', async () => {
    // Progress at 600, 1200 and 1800 ms, then none: it fails at 2800 ms, not before.
    let settled = false;
    const outcome = withStallTimeout(transfer(600, 3, 'stall'), 1000, 'upload of IN/x')
      .catch((err: unknown) => err)
      .finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(2799);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(settled).toBe(true);
    const err = await outcome;
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ retryable: true, message: 'No progress for 1000 ms: upload of IN/x.' });
  });
});
