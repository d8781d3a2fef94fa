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
  /** The cancellation of an earlier record: its content as it was sent, the same AttestationID, status 1. */
  cancellation(content: string, id: Omit<RecordIdentity, 'position' | 'status'>): RenderedRecord;
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
    return oneLine({ line: prefix + content + END, prefix: prefix.length, suffix: END.length, identified: true });
  };
  const { attestation, record } = output;
  return {
    render(rec, id, file) {
      if (attestation)
        return wrap(
          withElementChecks(check, () => attestation(rec, file)),
          id.attestationId,
          id.status,
          id.creationDate,
        );
      return oneLine({ line: withElementChecks(check, () => record(rec, id, file)), prefix: 0, suffix: 0, identified: false });
    },
    cancellation(content, id) {
      if (!attestation) throw new PipelineContractError(flow, 'records corrected one by one are attestations', 'only an attestation can be cancelled alone');
      return wrap(content, id.attestationId, 1, id.creationDate);
    },
  };
}
