/**
 * XML Schema regular expressions (XSD Part 2, appendix F) as JavaScript ones. They differ: an XSD
 * pattern matches the whole value (no anchors), `^` and `$` are plain characters, `.` excludes
 * only CR and LF, `\d` is any Unicode decimal digit, `\s` four characters, `\w` everything but
 * punctuation, separators and others. What has no JavaScript equivalent here (`\i`, `\c`, block
 * escapes `\p{IsX}`, class subtraction) is refused with an Error saying so.
 */
const OUTSIDE: Record<string, string> = {
  d: '\\p{Nd}',
  D: '\\P{Nd}',
  s: '[\\x20\\t\\n\\r]',
  S: '[^\\x20\\t\\n\\r]',
  w: '[^\\p{P}\\p{Z}\\p{C}]',
  W: '[\\p{P}\\p{Z}\\p{C}]',
};
const INSIDE: Record<string, string> = { d: '\\p{Nd}', D: '\\P{Nd}', s: '\\x20\\t\\n\\r' };
const UNSUPPORTED = new Set(['i', 'I', 'c', 'C']);

/** One regular expression for the patterns of one derivation step (a value matches one of them). */
export function xsdPatternToRegExp(patterns: readonly string[]): RegExp {
  return new RegExp(`^(?:${patterns.map((p) => `(?:${translate(p)})`).join('|')})$`, 'u');
}

function translate(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) throw new Error('a pattern ends with a lone backslash');
      i++;
      if (UNSUPPORTED.has(e)) throw new Error(`\\${e} (XML name characters) has no JavaScript equivalent`);
      if (e === 'p' || e === 'P') {
        const end = pattern.indexOf('}', i);
        const name = pattern.slice(i + 2, end);
        if (end === -1 || name.startsWith('Is')) throw new Error(`\\${e}{${name}}: Unicode block escapes have no JavaScript equivalent`);
        out += `\\${e}{${name}}`;
        i = end;
        continue;
      }
      const table = inClass ? INSIDE : OUTSIDE;
      if (e in table) out += table[e];
      else if (inClass && (e === 'w' || e === 'W' || e === 'S')) throw new Error(`\\${e} inside a character class has no JavaScript equivalent`);
      // `\-` is an escape in XSD everywhere, in JavaScript (unicode mode) only inside a class.
      else out += !inClass && e === '-' ? '-' : `\\${e}`;
      continue;
    }
    if (inClass) {
      if (c === '-' && pattern[i + 1] === '[') throw new Error('character class subtraction has no JavaScript equivalent');
      if (c === ']') inClass = false;
      // A `[` inside a class is a plain character in XSD.
      out += c === '[' ? '\\[' : c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (pattern[i + 1] === '^') {
        out += '^';
        i++;
      }
      continue;
    }
    if (c === '.') out += '[^\\n\\r]';
    else if (c === '^' || c === '$') out += `\\${c}`;
    else out += c;
  }
  if (inClass) throw new Error('a character class is not closed');
  return out;
}
