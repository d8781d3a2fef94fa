import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** A seeded source of randomness: the same seed gives the same sequence on every machine. */
export interface Random {
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability p (0..1). */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

/** Creates a deterministic Random (xoroshiro128+ from pure-rand). */
export function createRandom(seed: number): Random {
  const rng = xoroshiro128plus(seed);
  const int = (min: number, max: number): number => uniformInt(rng, min, max);
  return {
    int,
    chance: (p) => int(0, 999_999) < p * 1_000_000,
    pick: (items) => items[int(0, items.length - 1)]!,
  };
}
