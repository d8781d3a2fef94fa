import { UsageError } from '../errors/errors.js';

/** A flag's parser taking a whole number of at least 1 (and at most `most`); anything else is a usage error (exit 2) naming the flag. */
export function positiveInt(flag: string, most = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return wholeNumber(flag, 1, most);
}

/** A flag's parser taking a whole number of at least 0 (a size in bytes…); anything else is a usage error naming the flag. */
export function nonNegativeInt(flag: string): (text: string) => number {
  return wholeNumber(flag, 0, Number.MAX_SAFE_INTEGER);
}

function wholeNumber(flag: string, least: number, most: number): (text: string) => number {
  const range = most === Number.MAX_SAFE_INTEGER ? `of at least ${least}` : `from ${least} to ${most}`;
  return (text: string): number => {
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < least || Number(text) > most) throw new UsageError(`${flag} takes a whole number ${range}, got "${text}"`);
    return Number(text);
  };
}
