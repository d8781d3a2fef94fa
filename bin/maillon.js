#!/usr/bin/env -S node --max-semi-space-size=8
// Entry point of the `maillon` command: TypeScript sources run through tsx's loader.
// The young generation of the main thread is capped at 8 MB a semi-space (V8's default is 16):
// a flow's records die young, and the default let it grow between collections, which the largest
// flows paid in peak memory (docs/decisions/0012-young-generation-cap.md). Only Node's command
// line can set it, so every way of starting maillon executes this file (npm scripts, the Docker
// entry point, the tests and the benchmark), never `node bin/maillon.js`, which would bypass
// this line.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
