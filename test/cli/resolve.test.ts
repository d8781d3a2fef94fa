import { describe, expect, it } from 'vitest';
import { parseInstant } from '../../src/cli/resolve.js';
import { UsageError } from '../../src/errors/errors.js';

describe('parseInstant (--as-of)', () => {
  it.each(['2026-10-10', '2026-10-10T02:00', '2026-10-10T02:00:00Z', '2026-10-10T02:00:00.123+02:00', '2024-02-29T00:00:00Z'])('reads %s', (text) => {
    expect(Number.isNaN(parseInstant(text).getTime())).toBe(false);
  });

  it.each(['2026-02-30T00:00:00Z', '2026-02-29', '2026-13-01', '0000-01-01', '2026-10-10T24:00:00Z', '2026-10-10T02:60:00Z', '2026-10-10T02:00:60Z', '2026-10-10T02:00:00+25:00', 'yesterday'])(
    'refuses %s, which does not exist, instead of rolling it over',
    (text) => {
      expect(() => parseInstant(text)).toThrow(UsageError);
    },
  );
});
