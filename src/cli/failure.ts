import { connectionLost } from '../db/connectionLost.js';
import { MaillonError } from '../errors/errors.js';
import type { Logger } from '../log/logger.js';
import { maskPersonalData } from '../log/maskPersonalData.js';

/** How an error that ends a command (or one flow of `run --all`) is told: its exit code and its sentence. */
export interface Failure {
  exitCode: number;
  /** The error's message, INSS-shaped numbers masked (defence in depth: messages should carry none). */
  message: string;
}

/**
 * The one mapping of a command's error: a PostgreSQL connection lost becomes a DatabaseError
 * (exit 6, "run it again once the server answers"), a MaillonError keeps its exit code, anything
 * else is exit 1 and logged with its stack as an unexpected failure. Used by main.ts for every
 * command, and by the commands that catch an error to go on (`run --all`, `send`'s reply pass).
 */
export function describeFailure(caught: unknown, command: string, logger: Logger | undefined): Failure {
  const err = connectionLost(caught, command) ?? caught;
  if (!(err instanceof MaillonError)) logger?.error({ err }, 'unexpected failure');
  return {
    exitCode: err instanceof MaillonError ? err.exitCode : 1,
    message: maskPersonalData(err instanceof Error ? err.message : String(err)),
  };
}

/**
 * The exit code of several failures (`run --all`): the most severe, in this order: 6 (the
 * database, every flow is concerned), 7 (the outbox), 9 (a tool), 1 (an unexpected failure), 5 (a
 * flow's defect), 8 (a ledger conflict), 2 (a usage error); a code not listed comes after them.
 */
export function mostSevereExitCode(codes: readonly number[]): number | undefined {
  const rank = (code: number): number => {
    const i = SEVERITY.indexOf(code);
    return i === -1 ? SEVERITY.length : i;
  };
  return codes.reduce<number | undefined>((worst, code) => (worst === undefined || rank(code) < rank(worst) ? code : worst), undefined);
}

const SEVERITY: readonly number[] = [6, 7, 9, 1, 5, 8, 2];
