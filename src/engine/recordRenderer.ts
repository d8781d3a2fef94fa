import { PipelineContractError } from '../errors/errors.js';
import type { FileContext } from '../render/envelope.js';
import { withElementChecks, type ElementCheck } from '../render/xml.js';
import type { RecordIdentity, RenderedRecord, XmlOutput } from '../render/outputContracts.js';

export type { RenderedRecord } from '../render/outputContracts.js';

/** Renders the records of one XML flow as the engine's contracts want them. */
export interface RecordRenderer {
  /**
   * The record's line: the flow's rendering, its values checked against the schema (a value the
   * schema refuses throws RecordContentError before anything is written), identified by the
   * engine when the flow declares attestations. Throws PipelineContractError when the flow
   * breaks a contract (a line break in the record, an element the schema does not declare).
   */
  render(rec: unknown, id: RecordIdentity, file: FileContext): RenderedRecord;
  /**
   * The cancellation of an earlier record from its content as it was sent, with the same
   * AttestationID and status 1: an attestation's content wrapped in the engine's identification
   * (`rec` null: left out of the file's totals), or a whole record read back by the flow
   * (`readRecord`) and rendered again (`rec`: counted in the file's totals like any record).
   */
  cancellation(content: string, id: Omit<RecordIdentity, 'status'>, file: FileContext): { rendered: RenderedRecord; rec: unknown };
}

const END = '</Attestation>';

/** The identification the engine writes before an attestation's content. */
function identification(attestationId: string, status: number, creationDate: string): string {
  return (
    `<Attestation><AttestationIdentification><AttestationID>${attestationId}</AttestationID>` +
    `<AttestationStatus>${status}</AttestationStatus><CreationDate>${creationDate}</CreationDate></AttestationIdentification>`
  );
}

/** `check` is the flow's schema checks by element name (src/engine/pipelineContracts.ts). */
export function createRecordRenderer(flow: string, output: XmlOutput<unknown>, check: ElementCheck): RecordRenderer {
  const oneLine = (r: RenderedRecord): RenderedRecord => {
    if (r.line.indexOf('\n') !== -1 || r.line.indexOf('\r') !== -1) {
      throw new PipelineContractError(
        flow,
        'one record per line',
        'a record element holds a raw line break; write its text with el() from src/render/xml.ts, which writes line breaks as character references',
      );
    }
    return r;
  };
  const wrap = (content: string, attestationId: string, status: number, creationDate: string): RenderedRecord => {
    const prefix = identification(attestationId, status, creationDate);
    return oneLine({ line: prefix + content + END, prefix: prefix.length, suffix: END.length, keepContent: true });
  };
  const { attestation, record, readRecord } = output;
  // A whole record's line is kept (its content) when the flow can read it back to cancel it.
  const keepContent = Boolean(readRecord);
  const render = (rec: unknown, id: RecordIdentity, file: FileContext): RenderedRecord => {
    if (attestation)
      return wrap(
        withElementChecks(check, () => attestation(rec, file)),
        id.attestationId,
        id.status,
        id.creationDate,
      );
    return oneLine({ line: withElementChecks(check, () => record(rec, id, file)), prefix: 0, suffix: 0, keepContent });
  };
  return {
    render,
    cancellation(content, id, file) {
      if (attestation) return { rendered: wrap(content, id.attestationId, 1, id.creationDate), rec: null };
      if (!readRecord) throw new PipelineContractError(flow, 'a cancelled record is read back', 'a flow that writes whole records declares `readRecord` for its reruns to cancel one');
      const rec = readRecord(content);
      return { rendered: render(rec, { ...id, status: 1 }, file), rec };
    },
  };
}
