import { isBlank } from '../domain/blankText.js';
import { RecordContentError } from '../errors/errors.js';
import { xsdPatternToRegExp } from './xsdPattern.js';
import { isStringLike, readSchemaElements, type SimpleTypeFacets } from './xsdFacets.js';
import { codePoints } from './xml.js';

/** Checks one value of an element; throws RecordContentError (rule, element, limit) when the schema refuses it. */
export type ValueCheck = (value: string | number | boolean) => void;

/** The checks of a schema's elements, by name; null where there is nothing to check (complex types, dates…). */
export type SchemaChecks = ReadonlyMap<string, ValueCheck | null>;

/** The value ranges of the built-in integer types, as XML Schema defines them. */
const INTEGER_RANGES: Record<string, [bigint | null, bigint | null]> = {
  integer: [null, null],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  short: [-(2n ** 15n), 2n ** 15n - 1n],
  byte: [-128n, 127n],
  nonNegativeInteger: [0n, null],
  positiveInteger: [1n, null],
  nonPositiveInteger: [null, 0n],
  negativeInteger: [null, -1n],
  unsignedLong: [0n, 2n ** 64n - 1n],
  unsignedInt: [0n, 2n ** 32n - 1n],
  unsignedShort: [0n, 65535n],
  unsignedByte: [0n, 255n],
};

/**
 * Reads a schema's element facets (src/render/xsdFacets.ts) and turns each into a check, so that
 * a value the schema would refuse is refused before it is written. `label` names the schema in
 * the messages (e.g. `tax-attestations/v1.xsd`). Throws an Error saying why when the schema
 * cannot be checked this way: an xs:list or xs:union, a pattern the engine cannot translate, or
 * one element name declared with types the engine cannot tell apart (below).
 */
export function compileSchemaChecks(xsdPath: string, label: string): SchemaChecks {
  const { elements } = readSchemaElements(xsdPath);
  const checks = new Map<string, ValueCheck | null>();
  for (const [name, types] of elements) checks.set(name, types.length > 1 ? anyOf(name, types, label) : types[0] ? compileFacets(name, types[0], label) : null);
  return checks;
}

/**
 * The check of a name declared with several simple types (in the branches of a choice, say):
 * a value that fits none of them is refused; which one applies is the flow's choice, which the
 * XSD validation of the file holds it to. The engine checks by name, so such types may differ in
 * their patterns and enumerations (values the flow picks, like a country code), not in their
 * length limits, which free text must keep.
 */
function anyOf(element: string, types: (SimpleTypeFacets | null)[], schema: string): ValueCheck {
  const limits = new Set(types.map((t) => (t === null ? 'complex' : `${t.builtin} ${t.length ?? ''} ${t.minLength ?? ''} ${t.maxLength ?? ''}`)));
  if (limits.size > 1) {
    throw new Error(
      `${schema} declares ${element} with types of different lengths (or of simple and complex content); the engine checks a value by its element's name, so give them one length, or distinct names`,
    );
  }
  const checks = types.map((t) => compileFacets(element, t!, schema));
  return (value) => {
    let first: unknown = null;
    for (const c of checks) {
      try {
        c?.(value);
        return;
      } catch (err) {
        first ??= err;
      }
    }
    throw first;
  };
}

/** The check of one element's simple type; null when it has nothing the engine checks. */
export function compileFacets(element: string, f: SimpleTypeFacets, schema: string): ValueCheck | null {
  if (f.builtin === 'list' || f.builtin === 'union') throw new Error(`${schema}: element ${element} is an xs:${f.builtin}, which the engine's facet reader does not check`);
  const patterns = f.patterns.map((step) => {
    try {
      return xsdPatternToRegExp(step);
    } catch (err) {
      throw new Error(`${schema}: the pattern of ${element} (${step.join(' | ')}) cannot be checked: ${(err as Error).message}`);
    }
  });
  const lexical = lexicalCheck(element, f, schema, patterns);
  if (isStringLike(f.builtin)) return textCheck(element, f, schema, lexical);
  if (f.builtin in INTEGER_RANGES) return integerCheck(element, f, schema, lexical);
  // Dates, booleans, decimals: their enumerations and patterns only (their values are typed before).
  return lexical && ((value) => lexical(collapsed(String(value))));
}

function fail(rule: string, element: string, message: string): never {
  throw new RecordContentError(rule, element, message);
}

/** Enumerations and patterns, on the value as the schema sees it (whitespace normalised). */
function lexicalCheck(element: string, f: SimpleTypeFacets, schema: string, patterns: RegExp[]): ((text: string) => void) | null {
  const allowed = f.enumeration ? new Set(f.enumeration) : null;
  if (!allowed && patterns.length === 0) return null;
  const listed = f.enumeration?.slice(0, 12).join(', ');
  const forms = f.patterns.map((step) => step.join(' | ')).join(' and ');
  // Coded values repeat from one record to the next (a quarter, a country, a language): the last
  // value that passed passes again without its expressions.
  let passed: string | null = null;
  return (text) => {
    if (text === passed) return;
    if (allowed && !allowed.has(text))
      fail('text-not-in-list', element, `${element} is not one of the values ${schema} allows (${listed}${f.enumeration!.length > 12 ? ', …' : ''}): correct it in the dossier`);
    for (const re of patterns) if (!re.test(text)) fail('text-form', element, `${element} does not have the form ${schema} requires (${forms}): correct it in the dossier`);
    passed = text;
  };
}

function textCheck(element: string, f: SimpleTypeFacets, schema: string, lexical: ((text: string) => void) | null): ValueCheck | null {
  const max = f.length ?? f.maxLength;
  const min = f.length ?? f.minLength;
  if (max === undefined && min === undefined && lexical === null && f.whiteSpace === 'preserve') return null;
  const normalize = f.whiteSpace === 'preserve' ? null : whiteSpaceOf(f.whiteSpace);
  return (value) => {
    const raw = typeof value === 'string' ? value : String(value);
    const text = normalize === null ? raw : normalize(raw);
    // A text's UTF-16 length is at least its number of characters, at most twice it.
    if (max !== undefined && text.length > max) {
      const n = codePoints(text);
      if (n > max) fail('text-too-long', element, `${element} is ${n} characters long; ${schema} allows at most ${max}: shorten it in the dossier`);
    }
    if (min !== undefined && text.length < 2 * min) {
      const n = codePoints(text);
      if (n < min) fail('text-too-short', element, `${element} is ${n === 0 ? 'empty' : `${n} characters long`}; ${schema} requires at least ${min}: complete it in the dossier`);
    }
    // XML Schema counts "   " as 3 characters; a required text made of spaces is as missing as an empty one.
    if (min !== undefined && min > 0 && isBlank(text))
      fail('text-too-short', element, `${element} is blank (only whitespace), and a required text needs a character other than whitespace: complete it in the dossier`);
    lexical?.(text);
  };
}

function integerCheck(element: string, f: SimpleTypeFacets, schema: string, lexical: ((text: string) => void) | null): ValueCheck {
  const [builtinMin, builtinMax] = INTEGER_RANGES[f.builtin]!;
  const min = maxOf(builtinMin, bound(f.minInclusive, 0n), bound(f.minExclusive, 1n));
  const max = minOf(builtinMax, bound(f.maxInclusive, 0n), bound(f.maxExclusive, -1n));
  // The same bounds as numbers, for the common case of a safe integer (exact in that range).
  const minN = min === null ? -Infinity : Number(min);
  const maxN = max === null ? Infinity : Number(max);
  const digits = f.totalDigits;
  const range = `${min === null ? 'no minimum' : `from ${min}`} ${max === null ? 'and no maximum' : `to ${max}`}${digits ? `, at most ${digits} digits` : ''}`;
  const outOfRange = (): never => fail('number-out-of-range', element, `${element} is not an integer ${schema} allows (${range}): correct it in the dossier`);
  // No whitespace around the digits (xmllint refuses it for a type derived from a built-in one),
  // no sign for the unsigned types (xmllint refuses `+7` there).
  const form = f.builtin.startsWith('unsigned') ? /^[0-9]+$/ : /^[+-]?[0-9]+$/;
  return (value) => {
    if (typeof value === 'number' && Number.isSafeInteger(value)) {
      if (value < minN || value > maxN) outOfRange();
      if (digits !== undefined && String(Math.abs(value)).length > digits) outOfRange();
      if (lexical) lexical(String(value));
      return;
    }
    const text = String(value);
    if (!form.test(text)) outOfRange();
    const n = BigInt(text);
    if ((min !== null && n < min) || (max !== null && n > max)) outOfRange();
    if (digits !== undefined && text.replace(/^[+-]?0*/, '').length > digits) outOfRange();
    lexical?.(text);
  };
}

function bound(value: string | undefined, shift: bigint): bigint | null {
  return value === undefined ? null : BigInt(value.trim()) + shift;
}

function maxOf(...values: (bigint | null)[]): bigint | null {
  return values.reduce<bigint | null>((a, b) => (a === null ? b : b === null ? a : a > b ? a : b), null);
}

function minOf(...values: (bigint | null)[]): bigint | null {
  return values.reduce<bigint | null>((a, b) => (a === null ? b : b === null ? a : a < b ? a : b), null);
}

const identity = (text: string): string => text;
const replaced = (text: string): string => text.replace(/[\t\n\r]/g, ' ');
const collapsed = (text: string): string => replaced(text).replace(/ {2,}/g, ' ').trim();

function whiteSpaceOf(ws: SimpleTypeFacets['whiteSpace']): (text: string) => string {
  return ws === 'preserve' ? identity : ws === 'replace' ? replaced : collapsed;
}
