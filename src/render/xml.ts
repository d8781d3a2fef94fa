const SPECIAL = /[&<>"']/g;
const NEEDS_ESCAPE = /[&<>"']/;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
// Characters XML 1.0 forbids even escaped: control characters other than tab, LF, CR; lone surrogates; U+FFFE/FFFF.
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// A cheap first test (no lookaround): any control character or surrogate at all. Only text that
// holds one (rare: a tab, or a character outside the BMP) goes through the precise expression.
const MAYBE_FORBIDDEN = /[\u0000-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** Escapes text for element content or attribute values; drops characters XML 1.0 cannot carry. */
export function escapeXml(text: string): string {
  const clean = MAYBE_FORBIDDEN.test(text) ? text.replace(FORBIDDEN, '') : text;
  return NEEDS_ESCAPE.test(clean) ? clean.replace(SPECIAL, (c) => ENTITIES[c]!) : clean;
}

/** `<name>value</name>` with the value escaped. */
export function el(name: string, value: string | number | boolean): string {
  return `<${name}>${typeof value === 'string' ? escapeXml(value) : String(value)}</${name}>`;
}

/** `el(name, value)` when the value is present, nothing otherwise. */
export function optionalEl(name: string, value: string | number | boolean | null | undefined): string {
  return value === null || value === undefined ? '' : el(name, value);
}
