import { isConnectionLoss } from '../db/connectionLost.js';
import { RowShapeError } from '../db/queryRows.js';
import { DatabaseError, NotFoundError, UsageError } from '../errors/errors.js';
import type { Logger } from '../log/logger.js';
import { maskPersonalData } from '../log/maskPersonalData.js';

/** One answer of the status server: its status, content type and body, and any header of its own. */
export interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

/** A plain-text answer. */
export function textReply(status: number, body: string, headers?: Record<string, string>): Reply {
  return { status, type: 'text/plain; charset=utf-8', body, headers };
}

/** Network failures of a connection to PostgreSQL that never opened. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATEs of a server that cannot serve now besides a lost connection (isConnectionLoss): too many connections, database gone. */
const UNAVAILABLE_STATES = /^(53|3D000)/;

/** True when `err` says the ledger database cannot be reached or cannot serve now (not a defect of the query). */
export function databaseUnavailable(err: unknown): boolean {
  if (err instanceof RowShapeError) return false;
  if (err instanceof DatabaseError || isConnectionLoss(err)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (UNREACHABLE.has(code) || UNAVAILABLE_STATES.test(code))) return true;
  return err instanceof Error && /timeout exceeded when trying to connect/.test(err.message);
}

/**
 * The answer to a request whose handling threw: a UsageError is a 400 and a NotFoundError a 404,
 * with their sentence (INSS masked); a database that does not answer is a 503 and anything else a
 * 500, with a generic sentence, the error itself going to the log (masked) with the path only.
 */
export function errorReply(err: unknown, logger: Logger, path: string): Reply {
  if (err instanceof UsageError) return textReply(400, maskPersonalData(err.message));
  if (err instanceof NotFoundError) return textReply(404, maskPersonalData(err.message));
  if (databaseUnavailable(err)) {
    logger.warn({ err, path }, 'the status page could not read the ledger database');
    return textReply(503, 'The ledger database does not answer now: this page answers again once it does. The reason is in the log of maillon serve.', { 'retry-after': '30' });
  }
  logger.error({ err, path }, 'the status page failed to answer a request');
  return textReply(500, 'The status page could not answer this request: the reason is in the log of maillon serve.');
}
