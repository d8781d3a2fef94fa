import os from 'node:os';
import type { Pool } from '../db/database.js';
import { maskInss } from '../domain/inss.js';
import { recordEvent } from '../ledger/events.js';
import { maskPersonalData } from '../log/maskPersonalData.js';
import { parseTraceQuery, readTrace, type Trace, type TraceAnomaly, type TraceEntry } from './readTrace.js';

/** Where a trace reads: the ledger, and the dossier for the affiliates of an INSS. */
export interface TraceSources {
  ledger: Pool;
  dossier: Pool;
}

/** Options of a trace: `unmask` shows the INSS and is recorded in the ledger's event chain. */
export interface TraceOptions {
  unmask?: boolean;
  now: Date;
}

/**
 * The trail of one record, by dossier key or INSS: every extraction across flows, periods and
 * environments. The INSS is masked in everything returned unless `unmask`, which first appends a
 * `trace_unmasked` event (who, from which host, for which dossier keys) to the ledger's chain: an
 * unmasked trace that could not be recorded is not shown.
 */
export async function traceRecord(sources: TraceSources, text: string, options: TraceOptions): Promise<Trace> {
  const query = parseTraceQuery(text);
  const dossierKeys =
    query.kind === 'inss' ? (await sources.dossier.query<{ affiliate_id: string }>('SELECT affiliate_id FROM dossier.affiliates WHERE inss = $1', [query.value])).rows.map((r) => r.affiliate_id) : [];
  const entries = await readTrace(sources.ledger, query, dossierKeys);
  const shownQuery = query.kind === 'inss' ? { kind: query.kind, value: maskInss(query.value) } : query;
  if (options.unmask) {
    await recordEvent(sources.ledger, {
      at: options.now,
      submissionId: null,
      kind: 'trace_unmasked',
      detail: { query: shownQuery, sourceKeys: [...new Set(entries.map((e) => e.sourceKey))], entries: entries.length, by: os.userInfo().username, host: os.hostname() },
    });
    return { query, entries };
  }
  return { query: shownQuery, entries: entries.map(masked) };
}

/** An entry with every INSS masked: the record key, and any INSS-like digits in the texts. */
export function masked(e: TraceEntry): TraceEntry {
  return {
    ...e,
    recordKey: e.recordKey === null ? null : /^\d{11}$/.test(e.recordKey) ? maskInss(e.recordKey) : maskPersonalData(e.recordKey),
    message: e.message === null ? null : maskPersonalData(e.message),
    // Codes and error ids are the receiver's texts: one holding a person's number (a ledger row from before they were masked on reading) is masked.
    ackErrors: e.ackErrors.map(maskPersonalData),
    anomalies: e.anomalies.map((a) => (a.otherInss === undefined ? maskedAnomaly(a) : { ...maskedAnomaly(a), otherInss: maskInss(a.otherInss) })),
    fileAnomalies: e.fileAnomalies.map(maskedAnomaly),
    unmatchedAnomalies: e.unmatchedAnomalies.map((a) => ({ ...maskedAnomaly(a), inss: a.inss === null ? null : maskInss(a.inss) })),
  };
}

function maskedAnomaly<A extends TraceAnomaly>(a: A): A {
  return { ...a, code: maskPersonalData(a.code), description: a.description === null ? null : maskPersonalData(a.description) };
}
