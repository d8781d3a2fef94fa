/** The only source of the current time; tests pass a fixed one instead of sleeping. */
export interface Clock {
  now(): Date;
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock frozen at one instant. */
export function fixedClock(instant: Date | string): Clock {
  const t = new Date(instant);
  return { now: () => new Date(t) };
}
