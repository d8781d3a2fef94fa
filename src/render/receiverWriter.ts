import path from 'node:path';
import type { CsvTablesOutput, RecordIdentity, XmlOutput } from '../engine/pipeline.js';
import type { FileContext } from './envelope.js';
import { createFileSink } from './fileSink.js';
import type { StreamValidation } from './xsdValidator.js';
import { writeCsvTables } from './csvTables.js';

/** A closed temporary file, one part of a receiver's submission. */
export interface WrittenPart {
  fileKey: string;
  format: 'xml' | 'csv';
  tmpPath: string;
  /** Records in the file (XML) or source records aggregated into it (CSV). */
  records: number;
  bytes: number;
  sha256: string;
  /** The XSD validation that read the bytes as they were written, when the validator can. */
  validated?: Promise<void>;
}

/** Where an added record went; `flush` is set when a buffer is being written (await it). */
export interface Placement {
  fileKey: string;
  position: number;
  flush: Promise<void> | undefined;
}

/** Writes one receiver's part(s) of a run: records in, closed temporary files out. */
export interface ReceiverWriter {
  add(rec: unknown, id: Omit<RecordIdentity, 'position'>): Placement;
  /** Adds a record already rendered (a cancellation of an earlier record); XML only. */
  addLine(line: string): Placement;
  /** Closes the parts; `quarantined` is the run's quarantine count (manifests report it). */
  finish(quarantined: number): Promise<WrittenPart[]>;
  discard(): Promise<void>;
}

/** Creates the writer of a receiver for an output format; temporary files go to `tmpDir`. */
export async function createReceiverWriter(
  output: XmlOutput<unknown> | CsvTablesOutput<unknown>,
  file: FileContext,
  tmpDir: string,
  stem: string,
  validation?: () => StreamValidation | null,
): Promise<ReceiverWriter> {
  return output.kind === 'xml'
    ? createXmlWriter(output, file, path.join(tmpDir, `${stem}.xml.part`), validation?.() ?? null)
    : createCsvWriter(output, file, tmpDir, stem);
}

async function createXmlWriter(output: XmlOutput<unknown>, file: FileContext, tmpPath: string, validation: StreamValidation | null): Promise<ReceiverWriter> {
  const fileKey = `${file.receiver}#1`;
  const sink = await createFileSink(tmpPath, validation ? { tee: (chunk) => validation.write(chunk) } : {}).catch((err: unknown) => {
    validation?.abort();
    throw err;
  });
  await sink.write(output.envelope.start(file));
  const totals = output.envelope.totals();
  let records = 0;
  return {
    add(rec, id) {
      const position = ++records;
      output.envelope.add(totals, rec, position);
      return { fileKey, position, flush: sink.write(`${output.record(rec, { ...id, position }, file)}\n`) };
    },
    addLine(line) {
      const position = ++records;
      return { fileKey, position, flush: sink.write(`${line}\n`) };
    },
    async finish() {
      await sink.write(output.envelope.end(file, records, totals));
      const { bytes, sha256 } = await sink.close();
      validation?.end();
      return [{ fileKey, format: 'xml', tmpPath, records, bytes, sha256: sha256!, ...(validation ? { validated: validation.done } : {}) }];
    },
    discard: async () => {
      validation?.abort();
      await sink.discard();
    },
  };
}

function createCsvWriter(output: CsvTablesOutput<unknown>, file: FileContext, tmpDir: string, stem: string): ReceiverWriter {
  const state = output.state();
  const counts = new Map<string, number>();
  const written: string[] = [];
  return {
    add(rec) {
      const table = output.add(state, rec);
      const position = (counts.get(table) ?? 0) + 1;
      counts.set(table, position);
      return { fileKey: `${file.receiver}#${table}`, position, flush: undefined };
    },
    addLine() {
      throw new Error('aggregated tables have no record lines to cancel');
    },
    async finish(quarantined) {
      const parts = await writeCsvTables(output, state, counts, quarantined, file.receiver, tmpDir, stem);
      written.push(...parts.map((p) => p.tmpPath));
      return parts;
    },
    async discard() {
      const fs = await import('node:fs/promises');
      for (const p of written) await fs.rm(p, { force: true });
    },
  };
}
