import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SchemaConformanceError, ToolError } from '../errors/errors.js';

/** Validates files against an XSD; throws SchemaConformanceError when one does not conform. */
export interface XsdValidator {
  /** `xmllint` (native, streaming) or `xmllint-wasm` (npm fallback, loads the file in memory). */
  readonly name: string;
  /**
   * Validates written files (one xmllint for them all: a run's small files cost one process
   * start, not one each); the error names the first file that does not conform.
   */
  validate(files: readonly string[], xsd: string): Promise<void>;
  /**
   * Validates bytes as they are written (native xmllint only): the file's writer passes every
   * chunk, so validation ends with the last byte instead of re-reading the file afterwards.
   */
  stream?(xsd: string, fileLabel: string): StreamValidation;
}

/** A validation fed chunk by chunk; `done` settles when the validator has read everything. */
export interface StreamValidation {
  /** Returns a promise when the validator's input is full (await it). */
  write(chunk: Buffer): Promise<void> | undefined;
  end(): void;
  /** Resolves when the bytes conform; rejects with SchemaConformanceError or ToolError. */
  done: Promise<void>;
  /** Stops the validator (after a failure elsewhere). */
  abort(): void;
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

/**
 * xmllint validating while it parses, through libxml2's SAX plug (`--sax --schema`, with no SAX
 * output under `--noout`): memory stays flat like `--stream`, which validates through the text
 * reader, and it takes less CPU (docs/decisions/0004-xsd-validation-xmllint-sax-reading-along.md).
 */
const XMLLINT = ['--noout', '--nonet', '--sax', '--schema'] as const;

function nativeValidator(binary: string): XsdValidator {
  return {
    name: 'xmllint',
    stream: (xsd, fileLabel) => streamValidation(binary, xsd, fileLabel),
    async validate(files, xsd) {
      if (files.length === 0) return;
      const run = (list: readonly string[]): Promise<void> => childOutcome(spawn(binary, [...XMLLINT, xsd, ...list], { stdio: ['ignore', 'ignore', 'pipe'] }), xsd, path.basename(list[0]!));
      if (files.length === 1) return run(files);
      try {
        await run(files);
      } catch (err) {
        if (!(err instanceof SchemaConformanceError)) throw err;
        // Name the file and its messages: each file again on its own (rare, and small files).
        for (const f of files) await run([f]);
        throw err;
      }
    },
  };
}

/**
 * xmllint reading along on its standard input. (A named pipe, which would move the copies into
 * the pipe off the rendering thread, was tried: no measurable gain on large files, and a fixed
 * cost per run for mkfifo and its folder that the smallest flows felt.)
 */
function streamValidation(binary: string, xsd: string, fileLabel: string): StreamValidation {
  const child = spawn(binary, [...XMLLINT, xsd, '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  // xmllint names its standard input "-" in its messages: name the file instead.
  const done = childOutcome(child, xsd, fileLabel, '-');
  let exited = false;
  child.on('close', () => {
    exited = true;
  });
  // xmllint stops reading at the first fatal error: writing further is pointless, not a failure.
  child.stdin.on('error', () => undefined);
  return {
    write(chunk) {
      const stdin = child.stdin;
      if (exited || stdin.destroyed) return undefined;
      if (stdin.write(chunk)) return undefined;
      return new Promise<void>((resolve) => {
        const go = (): void => {
          stdin.off('drain', go);
          child.off('close', go);
          resolve();
        };
        stdin.on('drain', go);
        child.on('close', go);
      });
    },
    end: () => child.stdin.end(),
    done,
    abort: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}

/**
 * Settles when xmllint exits: conforming, or a SchemaConformanceError naming the file, the schema
 * and xmllint's first messages (where lines starting `<input>:` start with the file's label).
 */
function childOutcome(child: ChildProcess, xsd: string, fileLabel: string, input?: string): Promise<void> {
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    if (stderr.length < 8192) stderr += c.toString('utf8');
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new ToolError(`xmllint could not be run: ${err.message}`, { cause: err })));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new SchemaConformanceError(fileLabel, path.basename(xsd), firstLines(explained(input === undefined ? stderr : relabel(stderr, `${input}:`, `${fileLabel}:`), fileLabel))));
    });
  });
  done.catch(() => undefined);
  return done;
}

const wasmValidator: XsdValidator = {
  name: 'xmllint-wasm',
  async validate(files, xsd) {
    for (const file of files) await validateWithWasm(file, xsd);
  },
};

async function validateWithWasm(file: string, xsd: string): Promise<void> {
  const { validateXML } = await import('xmllint-wasm');
  // The wasm file system only holds what we give it: the schema and every schema it includes,
  // under paths relative to their common folder so that relative schemaLocations resolve.
  const schemas = await schemaClosure(xsd);
  const base = commonFolder(schemas);
  const named = await Promise.all(schemas.map(async (s) => ({ fileName: path.relative(base, s), contents: await fs.readFile(s, 'utf8') })));
  const result = await validateXML({
    xml: [{ fileName: path.basename(file), contents: await fs.readFile(file, 'utf8') }],
    schema: [named[0]!],
    preload: named.slice(1),
  });
  if (!result.valid) {
    throw new SchemaConformanceError(path.basename(file), path.basename(xsd), firstLines(result.rawOutput));
  }
}

/** The XSD and every XSD it includes or imports, transitively; the XSD itself first. */
async function schemaClosure(xsd: string): Promise<string[]> {
  const seen = [path.resolve(xsd)];
  for (let i = 0; i < seen.length; i++) {
    const text = await fs.readFile(seen[i]!, 'utf8');
    for (const m of text.matchAll(/schemaLocation="([^"]+)"/g)) {
      const target = path.resolve(path.dirname(seen[i]!), m[1]!);
      if (!seen.includes(target)) seen.push(target);
    }
  }
  return seen;
}

function commonFolder(files: string[]): string {
  let base = path.dirname(files[0]!);
  while (!files.every((f) => f.startsWith(`${base}${path.sep}`))) base = path.dirname(base);
  return base;
}

function relabel(text: string, from: string, to: string): string {
  return text
    .split('\n')
    .map((line) => (line.startsWith(from) ? to + line.slice(from.length) : line))
    .join('\n');
}

/**
 * Under `--sax` xmllint says only "validation generated an internal error" when the parser stops
 * (a file cut short, a tag not closed, a character XML does not allow): say that in words.
 */
function explained(text: string, fileLabel: string): string {
  return text.replace(
    /^.* validation generated an internal error$/gm,
    `${fileLabel}: not well-formed XML (cut short, a tag not closed, or a character XML does not allow): xmllint could not read it to the end`,
  );
}

function firstLines(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim() && !l.endsWith('validates'))
    .slice(0, 5)
    .join(' | ');
}
