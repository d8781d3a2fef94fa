import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SchemaConformanceError, ToolError } from '../errors/errors.js';

/** Validates a file against an XSD; throws SchemaConformanceError when it does not conform. */
export interface XsdValidator {
  /** `xmllint` (native, streaming) or `xmllint-wasm` (npm fallback, loads the file in memory). */
  readonly name: string;
  validate(file: string, xsd: string): Promise<void>;
}

/** Picks the validator: an explicit path, `wasm`, or xmllint from PATH with the npm fallback. */
export function createXsdValidator(setting: string | undefined): XsdValidator {
  if (setting === 'wasm') return wasmValidator;
  const binary = setting ?? 'xmllint';
  const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    if (setting) throw new ToolError(`MAILLON_XMLLINT=${setting} cannot be run; install libxml2-utils or unset it to use the npm validator.`);
    return wasmValidator;
  }
  return nativeValidator(binary);
}

function nativeValidator(binary: string): XsdValidator {
  return {
    name: 'xmllint',
    validate: (file, xsd) =>
      new Promise((resolve, reject) => {
        const child = spawn(binary, ['--noout', '--nonet', '--stream', '--schema', xsd, file], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => {
          if (stderr.length < 8192) stderr += c.toString('utf8');
        });
        child.on('error', (err) => reject(new ToolError(`xmllint could not be run: ${err.message}`, { cause: err })));
        child.on('close', (code) => {
          if (code === 0) resolve();
          else reject(new SchemaConformanceError(path.basename(file), path.basename(xsd), firstLines(stderr)));
        });
      }),
  };
}

const wasmValidator: XsdValidator = {
  name: 'xmllint-wasm',
  async validate(file, xsd) {
    const { validateXML } = await import('xmllint-wasm');
    const result = await validateXML({
      xml: [{ fileName: path.basename(file), contents: await fs.readFile(file, 'utf8') }],
      schema: [{ fileName: path.basename(xsd), contents: await fs.readFile(xsd, 'utf8') }],
    });
    if (!result.valid) {
      throw new SchemaConformanceError(path.basename(file), path.basename(xsd), firstLines(result.rawOutput));
    }
  },
};

function firstLines(text: string): string {
  return text.split('\n').filter((l) => l.trim() && !l.endsWith('validates')).slice(0, 5).join(' | ');
}
