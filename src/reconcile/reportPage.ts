import type { Environment } from '../config/config.js';
import type { Pool } from '../db/database.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { collectChunks } from './chunks.js';
import { readReportHead } from './report.js';
import { readReportLists } from './runLists.js';
import { HTML_LIST_LIMIT, htmlChunks } from './reportHtml.js';

/**
 * The report page the status server answers with: counts, checks, versions and files, and only the
 * first `limit` records of each long list (read with a LIMIT), so that a request never reads nor
 * holds a whole report, whatever the period's size. Dossier keys link to their trace (/trace?key=…).
 */
export async function reportPage(ledger: Pool, pipeline: AnyPipeline, period: string, environment: Environment, now: Date, ackDelayHours: number, limit = HTML_LIST_LIMIT): Promise<string> {
  const head = await readReportHead(ledger, pipeline, period, environment, now, ackDelayHours);
  return collectChunks(htmlChunks(head, readReportLists(ledger, head.runId, limit), limit, true));
}
