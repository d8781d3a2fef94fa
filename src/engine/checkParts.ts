import path from 'node:path';
import { SchemaConformanceError } from '../errors/errors.js';
import { verifyManifest } from '../render/csvTables.js';
import type { StreamValidation, XsdValidator } from '../render/xsdValidator.js';
import type { AnyPipeline } from './pipeline.js';
import type { RenderedSubmission } from './renderFiles.js';

/**
 * Checks every written part: CSV tables against their manifest; XML against its XSD (read along
 * while written for large files, else now, all the run's other files with one xmllint) and the
 * verdict of the flow's own line check (fed while the file was written).
 */
export async function checkParts(validator: XsdValidator, schemasDir: string, pipeline: AnyPipeline, rendered: readonly RenderedSubmission[]): Promise<void> {
  const output = pipeline.output;
  if (output.kind === 'csvTables') {
    for (const s of rendered) await verifyManifest(output, s.parts);
    return;
  }
  const parts = rendered.flatMap((s) => s.parts);
  await validator.validate(
    parts.filter((p) => !p.validated).map((p) => p.tmpPath),
    path.join(schemasDir, output.schema),
  );
  for (const p of parts) {
    if (p.validated) await p.validated;
    if (p.lineProblem) throw new SchemaConformanceError(path.basename(p.tmpPath), "the flow's control totals", p.lineProblem);
  }
}

/** The read-along validation of a flow's XML files (xmllint on its standard input), when the validator has one. */
export function streamValidationOf(validator: XsdValidator, schemasDir: string, pipeline: AnyPipeline): (() => StreamValidation | null) | undefined {
  const output = pipeline.output;
  const stream = validator.stream;
  if (output.kind !== 'xml' || !stream) return undefined;
  const xsd = path.join(schemasDir, output.schema);
  return () => stream(xsd, `${pipeline.id} file`);
}
