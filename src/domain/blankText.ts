// Any character other than whitespace (JavaScript's \s: space, tab, line breaks, no-break and the
// other Unicode spaces). The first character of a real value is one, so the test stops there.
const NOT_WHITESPACE = /\S/;

/**
 * True when a text holds no character other than whitespace (the empty text included): a required
 * text that is blank is missing, whatever its length. Leading and trailing spaces around other
 * characters are the value's own and are kept as they are.
 */
export function isBlank(text: string): boolean {
  return !NOT_WHITESPACE.test(text);
}
