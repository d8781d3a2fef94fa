import { z } from 'zod';

/** Environment of the batch channel: R production, T test, S simulation. */
export type Environment = 'R' | 'T' | 'S';

/** The environment as configuration and command lines give it. */
export const environmentSchema = z.enum(['R', 'T', 'S']);
