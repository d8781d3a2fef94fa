import { describe, expect, it } from 'vitest';
import { describeFailure, mostSevereExitCode } from '../../src/cli/failure.js';
import { LedgerConflictError, UsageError } from '../../src/errors/errors.js';

describe('the failure of a command', () => {
  it('is a lost database (exit 6, with its sentence) for a connection the server ended, the message masked', () => {
    const lost = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    expect(describeFailure(lost, 'run', undefined)).toEqual({
      exitCode: 6,
      message: expect.stringMatching(/^The connection to PostgreSQL was lost during maillon run \(.*Run it again once the server answers\.$/),
    });
    expect(describeFailure(new UsageError('INSS 85073003328 refused'), 'run', undefined)).toEqual({ exitCode: 2, message: expect.not.stringContaining('85073003328') });
    const logged: unknown[] = [];
    const logger = { error: (...args: unknown[]) => logged.push(args) } as unknown as Parameters<typeof describeFailure>[2];
    expect(describeFailure(new TypeError('x is undefined'), 'run', logger).exitCode).toBe(1);
    expect(logged).toHaveLength(1);
    expect(describeFailure(new LedgerConflictError('held'), 'run', logger).exitCode).toBe(8);
    expect(logged).toHaveLength(1);
  });

  it('of several flows (run --all) is the most severe, whatever their order', () => {
    expect(mostSevereExitCode([])).toBeUndefined();
    expect(mostSevereExitCode([8, 6])).toBe(6);
    expect(mostSevereExitCode([2, 8, 5])).toBe(5);
    expect(mostSevereExitCode([8, 1])).toBe(1);
    expect(mostSevereExitCode([14, 2])).toBe(2);
    expect(mostSevereExitCode([14, 4])).toBe(14);
  });
});
