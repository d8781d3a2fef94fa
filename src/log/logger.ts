import { pino, type Logger } from 'pino';
import { maskDeep, maskPersonalData } from './maskPersonalData.js';

export type { Logger } from 'pino';

/**
 * Creates the JSON logger (pino) writing to stderr. Every message and field is passed
 * through the INSS mask, so a number that slips into an error text never reaches a log.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: { app: 'maillon' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (obj) => maskDeep(serializeErrors(obj)) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskPersonalData(a) : a));
          return method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

function serializeErrors(obj: Record<string, unknown>): Record<string, unknown> {
  const err = obj['err'];
  if (!(err instanceof Error)) return obj;
  return { ...obj, err: { type: err.name, message: err.message, cause: err.cause instanceof Error ? err.cause.message : undefined } };
}
