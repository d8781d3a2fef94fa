import { PIPELINES } from '../../pipelines/index.js';
import { type Config, type Environment, parseEnvironment, refuseTestHooks } from '../config/config.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { closedOn } from '../engine/periodGuard.js';
import { NotFoundError, UsageError } from '../errors/errors.js';
import { isLocalDate, type LocalDate } from '../period/localDate.js';
import { type Period, parsePeriod } from '../period/period.js';

/** The pipeline of a flow id, or a NotFoundError listing the known flows. */
export function findPipeline(id: string): AnyPipeline {
  const p = PIPELINES.find((x) => x.id === id);
  if (!p) throw new NotFoundError(`There is no flow "${id}". Known flows: ${PIPELINES.map((x) => x.id).join(', ')}.`);
  return p;
}

/** The last day a flow's receiver accepts a file for the period when that is before `day`, else null (for send). */
export function periodClosedOn(flow: string, period: string, day: LocalDate): LocalDate | null {
  const pipeline = PIPELINES.find((x) => x.id === flow);
  return pipeline ? closedOn(pipeline, parsePeriod(period), day) : null;
}

/** Parses a period key for a pipeline, refusing a key of the wrong kind; `given` names where the key came from. */
export function periodFor(pipeline: AnyPipeline, key: string, given = '--period'): Period {
  let period: Period;
  try {
    period = parsePeriod(key);
  } catch (err) {
    throw new UsageError(`${given}: ${(err as Error).message}`);
  }
  if (period.kind !== pipeline.periodKind) {
    throw new UsageError(`The flow ${pipeline.id} runs per ${pipeline.periodKind}; "${key}" is a ${period.kind}.`);
  }
  return period;
}

const INSTANT = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2}):(\d{2}))?)?$/;

/**
 * Parses an ISO 8601 instant given with --as-of. The date must exist and the time be a time of
 * day: `2026-02-30` is refused, never rolled over to March.
 */
export function parseInstant(text: string): Date {
  const m = INSTANT.exec(text);
  const inRange = (v: string | undefined, max: number): boolean => v === undefined || Number(v) <= max;
  const d = new Date(text);
  if (!m || !isLocalDate(m[1]!) || !inRange(m[2], 23) || !inRange(m[3], 59) || !inRange(m[4], 59) || !inRange(m[6], 14) || !inRange(m[7], 59) || Number.isNaN(d.getTime())) {
    throw new UsageError(`--as-of takes an existing ISO 8601 instant such as 2026-10-10T02:00:00+02:00, got "${text}"`);
  }
  return d;
}

/** The environment a command works on: --env, else MAILLON_ENV; the test hooks are refused for R. */
export function environmentOption(config: Config, text: string | undefined): Environment {
  const environment = text ? parseEnvironment(text) : config.environment;
  refuseTestHooks(config, environment);
  return environment;
}
