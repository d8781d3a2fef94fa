import { RecordContentError } from '../errors/errors.js';

/**
 * Written as entities or character references: the five markup characters, and tab, line feed
 * and carriage return. A reference keeps the exact text (a parser would turn a raw CR into LF, and
 * a raw tab or line break in an attribute into a space) and keeps a record on one line.
 */
const SPECIAL = /[&<>"'\t\n\r]/g;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};
// A cheap first test (no lookaround) for anything to escape or look at: most text has none.
// eslint-disable-next-line no-control-regex -- control characters are what XML cannot carry
const NEEDS_WORK = /[&<>"'\u0000-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
// Characters XML 1.0 cannot carry, even as references: control characters other than tab, LF and
// CR; lone surrogates; U+FFFE and U+FFFF.
// eslint-disable-next-line no-control-regex -- control characters are what XML cannot carry
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const FORBIDDEN_ALL = new RegExp(FORBIDDEN.source, 'g');
const HTML_SPECIAL = /[&<>"']/g;

/**
 * Escapes text for XML element content or an attribute value. A character XML 1.0 cannot carry
 * is refused (RecordContentError, rule `text-forbidden-character`, naming `element`): the file
 * would not be XML, and dropping it would change the text without a word.
 */
export function escapeXml(text: string, element = 'a text'): string {
  if (!NEEDS_WORK.test(text)) return text;
  const bad = FORBIDDEN.exec(text);
  if (bad) throw forbiddenCharacter(element, text, bad.index);
  return text.replace(SPECIAL, (c) => ENTITIES[c]!);
}

/** Escapes text for an HTML page (reports, printable documents); drops what HTML cannot carry either. */
export function escapeHtml(text: string): string {
  const clean = NEEDS_WORK.test(text) && FORBIDDEN.test(text) ? text.replace(FORBIDDEN_ALL, '') : text;
  return clean.replace(HTML_SPECIAL, (c) => ENTITIES[c]!);
}

/**
 * Checks a value against what its element allows; throws RecordContentError when the value
 * breaks it (the engine then quarantines the record).
 */
export type ElementCheck = (name: string, value: string | number | boolean) => void;

// The check of the record being rendered: set by the engine around each record's rendering
// (synchronous, so no other rendering can see it), null everywhere else.
let active: ElementCheck | null = null;

/** Runs `render` with every `el` and `optionalEl` it calls checked by `check`. */
export function withElementChecks<T>(check: ElementCheck, render: () => T): T {
  const outer = active;
  active = check;
  try {
    return render();
  } finally {
    active = outer;
  }
}

/** `<name>value</name>` with the value escaped (and checked, while the engine renders a record). */
export function el(name: string, value: string | number | boolean): string {
  if (active !== null) active(name, value);
  return `<${name}>${typeof value === 'string' ? escapeXml(value, name) : String(value)}</${name}>`;
}

/** `el(name, value)` when the value is present, nothing otherwise. */
export function optionalEl(name: string, value: string | number | boolean | null | undefined): string {
  return value === null || value === undefined ? '' : el(name, value);
}

/** The number of characters (Unicode code points) of a text, as XML Schema counts them. */
export function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function forbiddenCharacter(element: string, text: string, index: number): RecordContentError {
  const code = text.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0');
  const kind = text.charCodeAt(index) >= 0xd800 && text.charCodeAt(index) <= 0xdfff ? 'a lone surrogate' : text.charCodeAt(index) >= 0xfffe ? 'a noncharacter' : 'a control character';
  return new RecordContentError(
    'text-forbidden-character',
    element,
    `${element} holds U+${code} (${kind}) at character ${codePoints(text.slice(0, index)) + 1}, which XML 1.0 cannot carry: correct it in the dossier`,
  );
}
