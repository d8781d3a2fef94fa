import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** A relative link of a Markdown file that does not resolve: where it is and why. */
export interface BrokenLink {
  /** The Markdown file, relative to the root searched. */
  file: string;
  line: number;
  target: string;
  reason: string;
}

/** Folders never searched: dependencies, Git, local state and scratch output. */
const SKIPPED = new Set(['node_modules', '.git', '.maillon', 'tmp', 'coverage']);

/** Every `.md` file under `root`, relative paths, sorted. */
export function markdownFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory() && !SKIPPED.has(entry.name)) out.push(...markdownFiles(root, rel));
    else if (entry.isFile() && entry.name.endsWith('.md')) out.push(rel);
  }
  return out.sort();
}

/**
 * The anchor GitHub gives a heading: lower case, every character that is not a letter, a digit,
 * `_`, `-` or a space dropped, each space made a `-`; a repeated heading gets `-1`, `-2`…
 */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { raw } of lines(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!m) continue;
    const plain = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** The lines of a Markdown text outside fenced code blocks, with their numbers: as written, and with inline code blanked. */
function lines(markdown: string): { n: number; raw: string; text: string }[] {
  const out: { n: number; raw: string; text: string }[] = [];
  let fence: string | null = null;
  markdown.split('\n').forEach((raw, i) => {
    const f = /^\s*(```|~~~)/.exec(raw);
    if (f) {
      if (fence === null) fence = f[1]!;
      else if (f[1] === fence) fence = null;
      return;
    }
    if (fence === null) out.push({ n: i + 1, raw, text: raw.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length)) });
  });
  return out;
}

/** The targets of inline links and images `[text](target "title")` and of definitions `[id]: target`. */
export function linkTargets(markdown: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  for (const { n, text } of lines(markdown)) {
    for (const m of text.matchAll(/\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+"[^"]*")?\s*\)/g)) out.push({ line: n, target: m[1]!.replace(/^<|>$/g, '') });
    const def = /^\s{0,3}\[[^\]]+\]:\s*(\S+)/.exec(text);
    if (def) out.push({ line: n, target: def[1]!.replace(/^<|>$/g, '') });
  }
  return out;
}

/**
 * Every relative link of every Markdown file under `root` that does not resolve: a file or folder
 * that does not exist, or an anchor that no heading of the Markdown file it names gives. Links with
 * a scheme (`https:`, `mailto:`…) are not followed.
 */
export function brokenLinks(root: string): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string): Set<string> => {
    if (!anchorsOf.has(file)) anchorsOf.set(file, headingAnchors(readFileSync(file, 'utf8')));
    return anchorsOf.get(file)!;
  };
  for (const file of markdownFiles(root)) {
    const abs = path.join(root, file);
    for (const { line, target } of linkTargets(readFileSync(abs, 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
      const linkPath = decodeURIComponent(rawPath);
      const resolved = linkPath === '' ? abs : path.resolve(path.dirname(abs), linkPath);
      const report = (reason: string): void => void broken.push({ file, line, target, reason });
      if (linkPath.startsWith('/')) report('an absolute path: link relative to the file');
      else if (!resolved.startsWith(root + path.sep) && resolved !== root) report('outside the repository');
      else if (!existsSync(resolved)) report('no such file or folder');
      else if (anchor && statSync(resolved).isFile() && resolved.endsWith('.md') && !anchors(resolved).has(anchor.toLowerCase())) {
        report(`no heading gives the anchor #${anchor}`);
      }
    }
  }
  return broken;
}
