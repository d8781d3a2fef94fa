import { describe, expect, it } from 'vitest';
import { connectionLost } from '../../src/db/connectionLost.js';
import { DatabaseError, OutboxError } from '../../src/errors/errors.js';

const pgError = (message: string, code?: string): Error => Object.assign(new Error(message), code ? { code } : {});

describe('connectionLost', () => {
  it('words a server that went away under a command as a DatabaseError that says what to do', () => {
    for (const err of [
      pgError('terminating connection due to administrator command', '57P01'),
      pgError('terminating connection because of crash of another server process', '57P02'),
      pgError('the database system is shutting down', '57P03'),
      pgError('could not receive data from client', '08006'),
      pgError('Connection terminated unexpectedly'),
      pgError('Client has encountered a connection error and is not queryable'),
    ]) {
      const lost = connectionLost(err, 'import');
      expect(lost, err.message).toBeInstanceOf(DatabaseError);
      expect(lost!.exitCode).toBe(6);
      expect(lost!.message).toBe(
        `The connection to PostgreSQL was lost during maillon import (${err.message}): the server stopped or restarted. What the command had not committed was rolled back. Run it again once the server answers.`,
      );
      expect(lost!.cause).toBe(err);
    }
  });

  it('leaves every other error alone', () => {
    expect(connectionLost(pgError('duplicate key value violates unique constraint', '23505'), 'import')).toBeNull();
    expect(connectionLost(pgError('canceling statement due to statement timeout', '57014'), 'run')).toBeNull();
    expect(connectionLost(new OutboxError('Cannot write x: ENOSPC'), 'run')).toBeNull();
    expect(connectionLost('Connection terminated', 'run')).toBeNull();
  });
});
