#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=20
// Entry point of the `maillon` command. The young generation of the main thread is capped at
// 8 MB a semi-space (V8's default is 16): a flow's records die young, and the default let it grow
// between collections, which the largest flows paid in peak memory
// (docs/decisions/0012-young-generation-cap.md). The old generation grows by at most 20 % of what
// survived its last collection, instead of V8's factor of up to 4: garbage no longer piles up with
// the size of the period (docs/decisions/0022-old-generation-growth.md). No hard limit is set: a
// process that needs more memory (a rerun whose every record changed) still gets it. Only Node's
// command line can set these, so every way
// of starting maillon executes this file (npm scripts, the Docker entry point, the tests and the
// benchmark), never `node bin/maillon.js`, which would bypass this line.
//
// Where the TypeScript sources are (a checkout), they run through tsx's loader: never a stale
// build. Without them (the container image), the JavaScript compiled by `npm run build` runs,
// with no compiler at start and nothing written to TMPDIR.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write('maillon: the TypeScript sources need tsx, a development dependency: run npm ci (without --omit=dev), or npm run build and run the compiled dist/.\n');
    process.exit(9);
  }
  tsx.register();
  await import(sources.href);
} else {
  await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
}
