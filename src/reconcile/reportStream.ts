import { UsageError } from '../errors/errors.js';
import type { Report } from './report.js';
import type { ReportLists } from './runLists.js';
import { csvChunks } from './reportCsv.js';
import { htmlChunks } from './reportHtml.js';
import { textChunks } from './reportText.js';

/** The formats of `maillon report`. */
export const REPORT_FORMATS = ['text', 'json', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The report in a format, as a sequence of text pieces; the long lists are read while it is written. */
export function reportChunks(format: string, head: Report, lists: ReportLists): AsyncIterable<string> {
  switch (format) {
    case 'json':
      return jsonChunks(head, lists);
    case 'csv':
      return csvChunks(head, lists);
    case 'html':
      return htmlChunks(head, lists);
    case 'text':
      return textChunks(head, lists);
    default:
      throw new UsageError(`--format takes text, json, csv or html, not "${format}".`);
  }
}

const MARK = { quarantine: '\u0000quarantine\u0000', recordIssues: '\u0000recordIssues\u0000', unmatchedAnomalies: '\u0000unmatchedAnomalies\u0000' } as const;
type ListName = keyof typeof MARK;

/**
 * The report as the JSON text `JSON.stringify(report, null, 2)` gives (same fields, same order, same
 * indentation), with the quarantine, the record issues and the unmatched anomalies written one element at a time (as
 * PostgreSQL writes them when they come from the ledger).
 */
export async function* jsonChunks(head: Report, lists: ReportLists): AsyncGenerator<string> {
  const text = JSON.stringify({ ...head, quarantine: MARK.quarantine, delivery: { ...head.delivery, recordIssues: MARK.recordIssues, unmatchedAnomalyList: MARK.unmatchedAnomalies } }, null, 2);
  // JSON.stringify writes each NUL as \u0000; PostgreSQL text never holds one, so only the marks match.
  const parts = text.split(/"\\u0000(quarantine|recordIssues|unmatchedAnomalies)\\u0000"/);
  yield parts[0]!;
  for (let i = 1; i < parts.length; i += 2) {
    const before = parts[i - 1]!;
    const indent = /\n( *)[^\n]*$/.exec(before)?.[1] ?? '';
    const list = parts[i] as ListName;
    yield* lists.text ? lists.text[list].json(indent) : jsonArray(lists[list], indent);
    yield parts[i + 1]!;
  }
  yield '\n';
}

async function* jsonArray(items: AsyncIterable<unknown>, indent: string): AsyncGenerator<string> {
  const inner = `${indent}  `;
  let first = true;
  for await (const item of items) {
    yield `${first ? '[\n' : ',\n'}${inner}${JSON.stringify(item, null, 2).replace(/\n/g, `\n${inner}`)}`;
    first = false;
  }
  yield first ? '[]' : `\n${indent}]`;
}
