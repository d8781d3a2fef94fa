import { PIPELINES } from '../../pipelines/index.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { NotFoundError, UsageError } from '../errors/errors.js';
import { type Period, parsePeriod } from '../period/period.js';

/** The pipeline of a flow id, or a NotFoundError listing the known flows. */
export function findPipeline(id: string): AnyPipeline {
  const p = PIPELINES.find((x) => x.id === id);
  if (!p) throw new NotFoundError(`There is no flow "${id}". Known flows: ${PIPELINES.map((x) => x.id).join(', ')}.`);
  return p;
}

/** Parses a period key for a pipeline, refusing a key of the wrong kind. */
export function periodFor(pipeline: AnyPipeline, key: string): Period {
  let period: Period;
  try {
    period = parsePeriod(key);
  } catch (err) {
    throw new UsageError(`--period: ${(err as Error).message}`);
  }
  if (period.kind !== pipeline.periodKind) {
    throw new UsageError(`The flow ${pipeline.id} runs per ${pipeline.periodKind}; "${key}" is a ${period.kind}.`);
  }
  return period;
}

/** Parses an ISO 8601 instant given with --as-of. */
export function parseInstant(text: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(text);
  const d = new Date(text);
  if (!ok || Number.isNaN(d.getTime())) {
    throw new UsageError(`--as-of takes an ISO 8601 instant such as 2026-10-10T02:00:00+02:00, got "${text}"`);
  }
  return d;
}
