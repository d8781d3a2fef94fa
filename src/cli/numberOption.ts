import { UsageError } from '../errors/errors.js';

/** A flag's parser taking a whole number of at least 1; anything else is a usage error (exit 2) naming the flag. */
export function positiveInt(flag: string): (text: string) => number {
  return wholeNumber(flag, 1);
}

/** A flag's parser taking a whole number of at least 0 (a size in bytes…); anything else is a usage error naming the flag. */
export function nonNegativeInt(flag: string): (text: string) => number {
  return wholeNumber(flag, 0);
}

function wholeNumber(flag: string, least: number): (text: string) => number {
  return (text: string): number => {
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < least) throw new UsageError(`${flag} takes a whole number of at least ${least}, got "${text}"`);
    return Number(text);
  };
}
