import { describe, expect, it } from 'vitest';
import { replyFailureExitCode } from '../../src/cli/commands/send.js';

// README's send row: a failed delivery (exit 11) comes first, also when the replies read afterwards
// could not be read at all (a trust store that cannot be read, a lost database).
describe('send: the exit code when its reading of replies fails outright', () => {
  it('keeps a failed delivery (11) first, and otherwise tells the reply pass failure (6 for a lost database, 2, 1)', () => {
    expect(replyFailureExitCode(11, 1)).toBe(11);
    expect(replyFailureExitCode(11, 6)).toBe(11);
    expect(replyFailureExitCode(8, 6)).toBe(6);
    expect(replyFailureExitCode(2, 1)).toBe(1);
    expect(replyFailureExitCode(undefined, 2)).toBe(2);
  });
});
