import type { AnyPipeline } from '../src/engine/pipeline.js';
import { career } from './career.js';
import { contributionSlips } from './contributionSlips.js';

/** Every flow maillon runs, listed explicitly. */
export const PIPELINES: readonly AnyPipeline[] = [career, contributionSlips];
