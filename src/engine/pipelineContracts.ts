import path from 'node:path';
import { PipelineContractError } from '../errors/errors.js';
import { compileSchemaChecks, type SchemaChecks } from '../render/elementChecks.js';
import type { ElementCheck } from '../render/xml.js';
import type { AnyPipeline } from './pipeline.js';
import { createRecordRenderer, type RecordRenderer } from './recordRenderer.js';

/** The elements the engine writes in every attestation: the schema must declare them. */
const IDENTIFICATION = ['Attestation', 'AttestationIdentification', 'AttestationID', 'AttestationStatus', 'CreationDate'];

// Schemas are read once per process: a few kB each, and they do not change under a running maillon.
const compiled = new Map<string, SchemaChecks>();

/**
 * Checks, when a flow is about to run, the contracts the engine relies on that can be seen
 * without data (docs/engine-contracts.md), and prepares what the engine derives from the flow:
 * for an XML flow, the renderer of its records with its schema's facets as checks. Throws
 * PipelineContractError naming the contract.
 */
export function loadPipeline(p: AnyPipeline, schemasDir: string): { renderer: RecordRenderer | null } {
  const output = p.output;
  if (output.kind !== 'xml') return { renderer: null };
  if (Boolean(output.attestation) === Boolean(output.record)) {
    throw new PipelineContractError(p.id, 'an XML record is an attestation or a whole element', 'its output declares both `attestation` and `record`, or neither');
  }
  if (!output.attestation && (p.corrections ?? 'records') === 'records') {
    throw new PipelineContractError(
      p.id,
      'records corrected one by one are attestations',
      "a flow whose reruns cancel and replace single records declares `attestation` (the engine identifies each record); a flow that writes whole record elements sets corrections: 'whole-file'",
    );
  }
  const xsd = path.join(schemasDir, output.schema);
  let checks = compiled.get(xsd);
  if (!checks) {
    try {
      checks = compileSchemaChecks(xsd, output.schema);
    } catch (err) {
      throw new PipelineContractError(p.id, 'the schema states every limit', (err as Error).message);
    }
    compiled.set(xsd, checks);
  }
  if (output.attestation) {
    const missing = IDENTIFICATION.filter((n) => !checks.has(n));
    if (missing.length > 0) throw new PipelineContractError(p.id, 'attestations are identified by the engine', `${output.schema} does not declare ${missing.join(', ')}`);
  }
  const schemaChecks = checks;
  const check: ElementCheck = (name, value) => {
    const c = schemaChecks.get(name);
    if (c === undefined) throw new PipelineContractError(p.id, 'every element is declared by the schema', `it writes <${name}>, which ${output.schema} does not declare`);
    if (c !== null) c(value);
  };
  return { renderer: createRecordRenderer(p.id, output, check) };
}

/**
 * Holds a flow's extraction to strictly increasing source keys, in byte order (as PostgreSQL's
 * COLLATE "C"): the order, and so every AttestationID, is then the same on every run over the
 * same data, and no two rows share a key (reruns match records by it). Returns the check of the
 * next row's key; throws PipelineContractError at the first row out of order.
 */
export function sourceKeyOrder(flow: string): (key: string, ordinal: number) => void {
  let previous: string | null = null;
  return (key, ordinal) => {
    if (previous !== null && !byteOrderLess(previous, key)) {
      throw new PipelineContractError(
        flow,
        'rows come in strictly increasing source-key order',
        `row ${ordinal} has the source key "${key}" after "${previous}"; order the extraction query by the key, COLLATE "C", and give every row its own key`,
      );
    }
    previous = key;
  };
}

/** True when `a` sorts before `b` by code point (the order of their UTF-8 bytes), not by UTF-16 unit. */
export function byteOrderLess(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (characters beyond U+FFFF) sort after U+E000–U+FFFF by code point.
    if (x >= 0xd800 && y >= 0xd800) return lift(x) < lift(y);
    return x < y;
  }
  return a.length < b.length;
}

function lift(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
