import type { LocalDate } from '../period/localDate.js';
import type { FileContext } from '../render/envelope.js';
import { createReceiverWriter, type Placement, type ReceiverWriter, type WrittenPart } from '../render/receiverWriter.js';
import type { StreamValidation } from '../render/xsdValidator.js';
import type { AnyPipeline } from './pipeline.js';
import type { RecordRenderer, RenderedRecord } from './recordRenderer.js';

/** The closed temporary parts of one receiver's submission. */
export interface RenderedSubmission {
  receiver: string;
  parts: WrittenPart[];
}

/** The files of a run, one writer per receiver, opened at the receiver's first record. */
export interface ReceiverFiles {
  /**
   * Renders a record for a receiver, at the position it will have there (XML; null for CSV
   * tables). Throws RecordContentError, with nothing written, when a value breaks the schema.
   */
  render(receiver: string, rec: unknown, attestationId: string, status: number): RenderedRecord | null;
  /**
   * Adds to the receiver's file the cancellation of an earlier record, from its content as sent
   * (RecordRenderer.cancellation): at the next position, a whole record counted in the totals.
   */
  cancel(receiver: string, content: string, attestationId: string): Promise<Placement>;
  /** The receiver's writer; a promise only when it is opened now. */
  writer(receiver: string): ReceiverWriter | Promise<ReceiverWriter>;
  /** Closes every file (side by side), receivers in code-point order; `quarantined` goes to manifests. */
  finish(quarantined: number): Promise<RenderedSubmission[]>;
  discard(): Promise<void>;
}

/** What opening a receiver's file needs. */
export interface ReceiverFilesInput {
  pipeline: AnyPipeline;
  renderer: RecordRenderer | null;
  /** The envelope's context for a receiver. */
  context(receiver: string): FileContext;
  creationDate: LocalDate;
  tmpDir: string;
  runId: number;
  streamValidation?: () => StreamValidation | null;
}

export function createReceiverFiles(input: ReceiverFilesInput): ReceiverFiles {
  const writers = new Map<string, ReceiverWriter>();
  const contexts = new Map<string, FileContext>();
  const contextOf = (receiver: string): FileContext => {
    let c = contexts.get(receiver);
    if (!c) contexts.set(receiver, (c = input.context(receiver)));
    return c;
  };
  const open = async (receiver: string): Promise<ReceiverWriter> => {
    const stem = `run${input.runId}-${writers.size + 1}`;
    const w = await createReceiverWriter(input.pipeline.output, contextOf(receiver), input.tmpDir, stem, input.streamValidation);
    writers.set(receiver, w);
    return w;
  };
  return {
    render(receiver, rec, attestationId, status) {
      if (!input.renderer) return null;
      const position = (writers.get(receiver)?.records() ?? 0) + 1;
      return input.renderer.render(rec, { attestationId, status, creationDate: input.creationDate, position }, contextOf(receiver));
    },
    async cancel(receiver, content, attestationId) {
      const writer = writers.get(receiver) ?? (await open(receiver));
      const id = { attestationId, creationDate: input.creationDate, position: writer.records() + 1 };
      const { rendered, rec } = input.renderer!.cancellation(content, id, contextOf(receiver));
      return rec === null ? writer.addCancellation(rendered) : writer.add(rec, rendered);
    },
    writer: (receiver) => writers.get(receiver) ?? open(receiver),
    async finish(quarantined) {
      // Closed (and fsynced) side by side: a run with eight receivers waits for the slowest disk
      // flush, not for the sum of eight. By code point: the order (and so the sequence numbers)
      // does not depend on the process's locale, as localeCompare's does.
      const receivers = [...writers.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const finished = await Promise.allSettled(receivers.map(([, w]) => w.finish(quarantined)));
      const failed = finished.find((f) => f.status === 'rejected');
      if (failed) throw failed.reason;
      return receivers.map(([receiver], i) => ({ receiver, parts: (finished[i] as PromiseFulfilledResult<WrittenPart[]>).value }));
    },
    async discard() {
      for (const w of writers.values()) await w.discard();
    },
  };
}
