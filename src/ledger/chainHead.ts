import { UsageError } from '../errors/errors.js';

/**
 * The head of the event chain as an auditor writes it down: the number of events (from 1) and the
 * hash of the last of them. A later chain that still starts with the same events has, at that
 * position, the same hash; one shortened or rewritten has not.
 */
export interface ChainHead {
  count: number;
  hash: string;
}

/** The text form `<count>:<hash>`, as verify-ledger prints it and --expect takes it. */
export function formatChainHead(head: ChainHead): string {
  return `${head.count}:${head.hash}`;
}

/** Parses `<count>:<hash>` (a count from 1, a sha256 in 64 hex digits); throws a UsageError otherwise. */
export function parseChainHead(text: string): ChainHead {
  const m = /^([1-9]\d{0,15}):([0-9a-fA-F]{64})$/.exec(text.trim());
  if (!m) throw new UsageError(`--expect takes the head verify-ledger printed, <count>:<hash> such as 3:${'a'.repeat(64)}, got "${text}".`);
  return { count: Number(m[1]), hash: m[2]!.toLowerCase() };
}
