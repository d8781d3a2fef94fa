import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { PublishedFile } from '../../src/engine/runPipeline.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { ROOT } from './runHarness.js';
import { tools } from './systemTools.js';

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

/**
 * Validates a file against a schema of `schemas/` with the xmllint binary (throws with its
 * output), or without it with xmllint-wasm, libxml2 compiled to WebAssembly (systemTools.ts).
 */
export async function xmllint(file: string, schema: string): Promise<void> {
  const xsd = path.isAbsolute(schema) ? schema : path.join(ROOT, 'schemas', schema);
  const binary = tools().xmllint;
  if (binary) execFileSync(binary, ['--noout', '--schema', xsd, file], { stdio: 'pipe' });
  else await createXsdValidator('wasm').validate([file], xsd);
}
