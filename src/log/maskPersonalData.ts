import { maskInss } from '../domain/inss.js';

// Any run of exactly 11 digits (an INSS or BIS number, valid or not), or the dotted form 85.07.30-033.28.
const INSS_LIKE = /(?<!\d)(\d{11}|\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2})(?!\d)/g;

/** Replaces every INSS-shaped number in a text by its masked form. */
export function maskPersonalData(text: string): string {
  return text.replace(INSS_LIKE, (m) => maskInss(m.replace(/\D/g, '')));
}

/** Masks every string inside a log object (depth-limited, arrays and plain objects). */
export function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPersonalData(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, depth + 1);
  return out;
}
