import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Every `.ts` file under `root`, recursively. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

const importPattern = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s+['"]([^'"]+)['"]/g;

/** The relative module specifiers a file imports or re-exports, type-only ones included. */
export function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(importPattern)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec?.startsWith('.')) found.push(spec);
  }
  return found;
}

/**
 * The folder-level import graph of `src/`: an edge A → B when a file in `src/A` imports a file in
 * `src/B` (first folder level; `src/cli/commands` counts as `cli`).
 */
export function folderGraph(srcRoot: string): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const folderOf = (file: string): string | undefined => {
    const rel = path.relative(srcRoot, file);
    if (rel.startsWith('..')) return undefined;
    const parts = rel.split(path.sep);
    return parts.length > 1 ? parts[0] : '.';
  };
  for (const file of sourceFiles(srcRoot)) {
    const from = folderOf(file);
    if (from === undefined) continue;
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const to = folderOf(path.resolve(path.dirname(file), spec));
      if (to === undefined || to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${path.relative(srcRoot, file)} → ${spec}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Every elementary cycle found by a depth-first search, each as its folders in order (deduplicated by rotation). */
export function findCycles(graph: Map<string, Map<string, string>>): string[][] {
  const cycles = new Map<string, string[]>();
  const nodes = [...graph.keys()].sort();
  for (const start of nodes) {
    const stack: string[] = [start];
    const walk = (node: string): void => {
      for (const next of [...(graph.get(node)?.keys() ?? [])].sort()) {
        if (next === start) {
          const cycle = [...stack];
          const min = cycle.indexOf([...cycle].sort()[0]!);
          const rotated = [...cycle.slice(min), ...cycle.slice(0, min)];
          cycles.set(rotated.join('>'), rotated);
        } else if (!stack.includes(next) && next > start) {
          stack.push(next);
          walk(next);
          stack.pop();
        }
      }
    };
    walk(start);
  }
  return [...cycles.values()];
}
