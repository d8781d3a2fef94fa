import { escapeControls } from '../system/escapeControls.js';

/**
 * Text read from a dossier file, quoted for an error sentence: at most `max` characters (code
 * points; a longer text shows its first max − 3 and "..."), control characters escaped (\x1b,
 * \x00, \x0a…: escapeControls), between double quotes. A refused header or field may hold
 * terminal escape sequences, NUL bytes or line breaks; none of them may reach the operator's
 * terminal or a log line as they are.
 */
export function quoteText(text: string, max = 40): string {
  // max + 1 code points take at most 2 (max + 1) UTF-16 units: enough to know whether to cut.
  const head = [...text.slice(0, 2 * (max + 1))];
  const shown = head.length > max ? `${head.slice(0, max - 3).join('')}...` : head.join('');
  return `"${escapeControls(shown)}"`;
}
