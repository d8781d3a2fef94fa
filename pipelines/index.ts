import type { AnyPipeline } from '../src/engine/pipeline.js';
import { allowanceCertificates } from './allowanceCertificates.js';
import { belcotax28118 } from './belcotax28118.js';
import { career } from './career.js';
import { contributionSlips } from './contributionSlips.js';
import { incapacityAttestations } from './incapacityAttestations.js';
import { statistics } from './statistics.js';
import { taxAttestations } from './taxAttestations.js';

/** Every flow maillon runs, listed explicitly. */
export const PIPELINES: readonly AnyPipeline[] = [career, contributionSlips, taxAttestations, belcotax28118, allowanceCertificates, statistics, incapacityAttestations];
