import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCycles, folderGraph, relativeImports } from './folderGraph.js';

const srcRoot = path.resolve(import.meta.dirname, '../../src');

describe('imports between the folders of src/', () => {
  it('form no cycle (a shared type belongs in src/domain, not in a folder that imports others)', () => {
    const graph = folderGraph(srcRoot);
    const described = findCycles(graph).map((cycle) =>
      [...cycle, cycle[0]!]
        .slice(0, -1)
        .map((from, i) => `${from} → ${cycle[(i + 1) % cycle.length]} (${graph.get(from)!.get(cycle[(i + 1) % cycle.length]!)})`)
        .join('; '),
    );
    expect(described, `import cycles between folders of src/:\n${described.join('\n')}`).toEqual([]);
  });

  it('sees every kind of import, type-only and multi-line ones included', () => {
    const text = [
      "import type { A } from '../a/a.js';",
      'import {\n  b,\n  c,\n} from "../b/b.js";',
      "export { d } from './d.js';",
      "import './side.js';",
      "const e = await import('../e/e.js');",
      "import fs from 'node:fs';",
    ].join('\n');
    expect(relativeImports(text)).toEqual(['../a/a.js', '../b/b.js', './d.js', './side.js', '../e/e.js']);
  });

  it('names a cycle when there is one', () => {
    const graph = new Map([
      ['config', new Map([['sign', 'config/config.ts → ../sign/signingIdentity.js']])],
      [
        'sign',
        new Map([
          ['errors', 'x'],
          ['config', 'sign/signingIdentity.ts → ../config/secretFile.js'],
        ]),
      ],
      ['errors', new Map<string, string>()],
    ]);
    expect(findCycles(graph)).toEqual([['config', 'sign']]);
  });
});
