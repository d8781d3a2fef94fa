/**
 * What a library reading a reply (saxes, yauzl, zlib, PostgreSQL) says is wrong, without the value
 * it quotes: the words before the first colon, quote or " to ", kept only when they are letters,
 * spaces and light punctuation — a quoted tag, attribute, entry name or value may hold a person's
 * number or name. `otherwise` when nothing safe is left.
 */
export function libraryProblem(message: string | undefined, otherwise: string): string {
  const text = (message ?? '')
    .replace(/^\d+:\d+: /, '')
    .split(/[:"'`“]| to /)[0]!
    .trim()
    .replace(/\.$/, '');
  return /^[A-Za-z][A-Za-z ,()/-]{0,99}$/.test(text) ? text : otherwise;
}

/** Where saxes says it stopped (`line:column`), from its message, or null. */
export function parserPosition(message: string): string | null {
  return /^(\d{1,9}:\d{1,9}): /.exec(message)?.[1] ?? null;
}
