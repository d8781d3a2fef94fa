import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { PublishedFile } from '../../src/engine/runPipeline.js';
import { ROOT } from './runHarness.js';

/**
 * Compares each published file with `fixtures/<flow>/golden/<name>`, byte for byte; with
 * MAILLON_UPDATE_GOLDEN=1 (npm run golden:update) writes them instead.
 */
export async function expectGolden(flow: string, files: readonly PublishedFile[]): Promise<void> {
  const dir = path.join(ROOT, 'fixtures', flow, 'golden');
  if (process.env['MAILLON_UPDATE_GOLDEN']) {
    await fs.mkdir(dir, { recursive: true });
    for (const f of files) await fs.copyFile(f.path, path.join(dir, f.name));
  }
  for (const f of files) {
    expect(await fs.readFile(f.path, 'utf8'), f.name).toBe(await fs.readFile(path.join(dir, f.name), 'utf8'));
  }
}

/** Validates a file against a schema of `schemas/` with the xmllint binary; throws with its output. */
export function xmllint(file: string, schema: string): void {
  execFileSync('xmllint', ['--noout', '--schema', path.join(ROOT, 'schemas', schema), file], { stdio: 'pipe' });
}
