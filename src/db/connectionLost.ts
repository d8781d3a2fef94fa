import { DatabaseError, MaillonError } from '../errors/errors.js';

/** SQLSTATEs of a server that went away: connection exceptions (class 08) and shutdowns (57P01–57P03). */
const LOST_STATES = /^(08|57P0[123])/;
/** What node-postgres says when the socket closes under a query or a COPY. */
const LOST_MESSAGES = /Connection terminated|connection error and is not queryable|server closed the connection unexpectedly/;

/**
 * A PostgreSQL connection lost in the middle of a command (the server stopped, crashed or
 * restarted), as a DatabaseError (exit 6) that says what happened and what to do, or null for any
 * other error. Whatever the command had not committed, PostgreSQL rolled back: every command of
 * maillon can be run again (a run starts over, an import replaces the dossier all or nothing, a
 * delivery resumes from the ledger).
 */
export function connectionLost(err: unknown, command: string): DatabaseError | null {
  if (err instanceof MaillonError || !(err instanceof Error) || !isConnectionLoss(err)) return null;
  return new DatabaseError(
    `The connection to PostgreSQL was lost during maillon ${command} (${err.message}): the server stopped or restarted. ` +
      'What the command had not committed was rolled back. Run it again once the server answers.',
    { cause: err },
  );
}

/** True when `err` is PostgreSQL's or node-postgres' word for a connection that went away (its SQLSTATE or message). */
export function isConnectionLoss(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && LOST_STATES.test(code)) return true;
  return err instanceof Error && LOST_MESSAGES.test(err.message);
}
