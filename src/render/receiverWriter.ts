import path from 'node:path';
import type { CsvTablesOutput, LineCheck, RenderedRecord, XmlOutput } from './outputContracts.js';
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
  /** The XSD validation that read the bytes as they were written (large files, xmllint); else the file is validated once closed. */
  validated?: Promise<void>;
  /** What the flow's own line check (XmlOutput.check) found wrong in the file's lines, or null; absent without a check. */
  lineProblem?: string | null;
}

/** Where an added record went; `flush` is set when a buffer is being written (await it). */
export interface Placement {
  fileKey: string;
  position: number;
  flush: Promise<void> | undefined;
  /** Byte offset in the file of the record's content kept for a cancellation (RenderedRecord.keepContent); else null. */
  contentOffset: number | null;
  /** Its length in bytes; null when not kept. */
  contentBytes: number | null;
}

/** Writes one receiver's part(s) of a run: records in, closed temporary files out. */
export interface ReceiverWriter {
  /** Records written so far: the next record's position is one more. */
  records(): number;
  /** Adds a record: its line as the engine rendered it (XML), or null (CSV tables aggregate the record). */
  add(rec: unknown, rendered: RenderedRecord | null): Placement;
  /** Adds the cancellation of an earlier attestation, rendered by the engine; left out of the totals. XML only. */
  addCancellation(rendered: RenderedRecord): Placement;
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
  startValidation?: () => StreamValidation | null,
): Promise<ReceiverWriter> {
  return output.kind === 'xml' ? createXmlWriter(output, file, path.join(tmpDir, `${stem}.xml.part`), startValidation) : createCsvWriter(output, file, tmpDir, stem);
}

/**
 * The XSD validation reading along starts with the file's first full buffer (1 MiB): a file
 * that ends before it is validated once closed, with the run's other small files, by one
 * xmllint (one per receiver was a large share of a small run that writes to many receivers, such
 * as allowance-certificates: docs/decisions/0004-xsd-validation-xmllint-sax-reading-along.md).
 */
async function createXmlWriter(output: XmlOutput<unknown>, file: FileContext, tmpPath: string, startValidation?: () => StreamValidation | null): Promise<ReceiverWriter> {
  const fileKey = `${file.receiver}#1`;
  let validation: StreamValidation | null = null;
  // Set once finish() starts: a file not yet streaming to the validator no longer starts.
  let ending = false;
  const tee = (chunk: Buffer): Promise<void> | undefined => {
    if (!validation && !ending) validation = startValidation!();
    return validation?.write(chunk);
  };
  const sink = await createFileSink(tmpPath, startValidation ? { tee } : {});
  // The flow's line check reads the text as it goes to the file: re-reading the file afterwards
  // cost more than the check itself (docs/decisions/0017-small-runs-and-process-start.md).
  const lines = output.check ? feedLines(output.check()) : null;
  const write = (text: string): Promise<void> | undefined => {
    lines?.feed(text);
    return sink.write(text);
  };
  await write(output.envelope.start(file));
  const totals: unknown = output.envelope.totals();
  let records = 0;
  const place = (position: number, r: RenderedRecord): Placement => {
    const start = sink.length();
    const flush = write(`${r.line}\n`);
    if (!r.keepContent) return { fileKey, position, flush, contentOffset: null, contentBytes: null };
    // The engine's prefix and suffix are ASCII: as many bytes as characters.
    return { fileKey, position, flush, contentOffset: start + r.prefix, contentBytes: sink.length() - start - 1 - r.prefix - r.suffix };
  };
  return {
    records: () => records,
    add(rec, rendered) {
      const position = ++records;
      output.envelope.add(totals, rec, position);
      return place(position, rendered!);
    },
    addCancellation(rendered) {
      return place(++records, rendered);
    },
    async finish() {
      ending = true;
      await write(output.envelope.end(file, records, totals));
      const { bytes, sha256 } = await sink.close();
      validation?.end();
      return [
        {
          fileKey,
          format: 'xml',
          tmpPath,
          records,
          bytes,
          sha256: sha256!,
          ...(validation ? { validated: validation.done } : {}),
          ...(lines ? { lineProblem: lines.end() } : {}),
        },
      ];
    },
    discard: async () => {
      validation?.abort();
      await sink.discard();
    },
  };
}

/** Hands a check the lines of a text given in pieces, as a reader of the file would see them. */
function feedLines(check: LineCheck): { feed(text: string): void; end(): string | null } {
  let carry = '';
  return {
    feed(text) {
      let start = 0;
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
        check.line(carry + text.slice(start, i));
        carry = '';
        start = i + 1;
      }
      carry += text.slice(start);
    },
    end() {
      if (carry) check.line(carry);
      return check.end();
    },
  };
}

function createCsvWriter(output: CsvTablesOutput<unknown>, file: FileContext, tmpDir: string, stem: string): ReceiverWriter {
  const state: unknown = output.state();
  const counts = new Map<string, number>();
  const written: string[] = [];
  let records = 0;
  return {
    records: () => records,
    add(rec) {
      records++;
      const table = output.add(state, rec);
      const position = (counts.get(table) ?? 0) + 1;
      counts.set(table, position);
      return { fileKey: `${file.receiver}#${table}`, position, flush: undefined, contentOffset: null, contentBytes: null };
    },
    addCancellation() {
      throw new Error('aggregated tables have no records to cancel');
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
