import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../config/config.js';
import { connect, type Pool, type PoolClient } from '../db/database.js';
import { insertSubmission } from '../ledger/submissions.js';
import { failRun, type RunCounts, startRun, succeedRun } from '../ledger/runs.js';
import type { Logger } from '../log/logger.js';
import { formatBatchFileName } from '../package/batchFileName.js';
import { prepareOutbox, publishFile, unpublishFile } from '../package/outbox.js';
import { allocateSequence } from '../package/sequences.js';
import { brusselsDate, type LocalDate } from '../period/localDate.js';
import { formatPeriod, type Period } from '../period/period.js';
import type { XsdValidator } from '../render/xsdValidator.js';
import type { AnyPipeline } from './pipeline.js';
import { type RenderedFile, renderFiles } from './renderFiles.js';

/** What a run needs from its surroundings. */
export interface RunDeps {
  ledger: Pool;
  dossier: Pool;
  clock: Clock;
  logger: Logger;
  outbox: string;
  schemasDir: string;
  validator: XsdValidator;
  onProgress?: (extracted: number) => void;
}

/** What to run. */
export interface RunRequest {
  pipeline: AnyPipeline;
  period: Period;
  environment: Environment;
  sender: string;
  /** Default: the run's start. */
  asOf?: Date;
  dryRun: boolean;
}

/** A file as published in the outbox. */
export interface PublishedFile {
  name: string;
  path: string;
  receiver: string;
  records: number;
  bytes: number;
  sha256: string;
  sequence: string;
}

/** The result of a run. */
export interface RunResult {
  runId: number;
  dryRun: boolean;
  asOf: Date;
  counts: RunCounts;
  quarantineByRule: Record<string, number>;
  files: PublishedFile[];
}

/**
 * Runs one pipeline for one period, top to bottom:
 * record the run → extract, validate, render (temporary files, outcomes streamed to the
 * ledger) → validate every file against its XSD → allocate sequences, name and publish the
 * files, record submissions → commit → record the run's end.
 * A dry run stops before the sequences and rolls everything back but the run row.
 */
export async function runPipeline(deps: RunDeps, req: RunRequest): Promise<RunResult> {
  const started = deps.clock.now();
  const asOf = req.asOf ?? started;
  const flow = req.pipeline.id;
  const periodKey = formatPeriod(req.period);
  const runId = await startRun(deps.ledger, { flow, period: periodKey, environment: req.environment, asOf, dryRun: req.dryRun }, started);
  const log = deps.logger.child({ runId, flow, period: periodKey, environment: req.environment });
  log.info({ asOf: asOf.toISOString(), dryRun: req.dryRun }, 'run started');
  const tmpDir = req.dryRun ? await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-dry-')) : await prepareOutbox(deps.outbox);
  const tx = await connect(deps.ledger);
  const published: PublishedFile[] = [];
  let rendered: RenderedFile[] = [];
  let released = false;
  try {
    await tx.query('BEGIN');
    const creationDate = brusselsDate(started);
    const out = await renderFiles(deps.dossier, tx, {
      pipeline: req.pipeline, period: req.period, environment: req.environment, sender: req.sender,
      asOf, asOfDay: brusselsDate(asOf), creation: started, creationDate, runId, tmpDir, onProgress: deps.onProgress,
    });
    rendered = out.files;
    log.info({ ...out.counts, files: rendered.length }, 'records rendered');
    for (const f of rendered) await deps.validator.validate(f.tmpPath, path.join(deps.schemasDir, req.pipeline.xml.schema));
    log.info({ validator: deps.validator.name, files: rendered.length }, 'files conform to their XSD');
    if (req.dryRun) {
      await tx.query('ROLLBACK');
    } else {
      for (const f of rendered) await publish(tx, deps, req, runId, creationDate, started, f, published);
      await tx.query('COMMIT');
    }
    released = true;
    tx.release();
    await succeedRun(deps.ledger, runId, deps.clock.now(), out.counts);
    log.info({ ...out.counts, files: published.map((f) => f.name) }, 'run succeeded');
    return { runId, dryRun: req.dryRun, asOf, counts: out.counts, quarantineByRule: out.quarantineByRule, files: published };
  } catch (err) {
    if (!released) {
      // Nothing was committed: no file of this run may stay in the outbox.
      await tx.query('ROLLBACK').catch(() => undefined);
      tx.release(true);
      for (const f of published) await unpublishFile(f.path);
    }
    await failRun(deps.ledger, runId, deps.clock.now(), err as Error).catch(() => undefined);
    throw err;
  } finally {
    for (const f of rendered) await fs.rm(f.tmpPath, { force: true });
    if (req.dryRun) await fs.rm(tmpDir, { recursive: true, force: true });
  }
}

async function publish(
  tx: PoolClient,
  deps: RunDeps,
  req: RunRequest,
  runId: number,
  creationDate: LocalDate,
  createdAt: Date,
  f: RenderedFile,
  published: PublishedFile[],
): Promise<void> {
  const sequence = await allocateSequence(tx, req.sender, creationDate, req.environment);
  const name = formatBatchFileName({
    kind: 'FI', purpose: req.pipeline.purpose, sender: req.sender, date: creationDate, sequence,
    environment: req.environment, parts: 1, part: 1,
  });
  const finalPath = await publishFile(f.tmpPath, deps.outbox, name);
  // Listed at once, so that a failure before COMMIT takes the file out of the outbox again.
  published.push({ name, path: finalPath, receiver: f.receiver, records: f.records, bytes: f.bytes, sha256: f.sha256, sequence });
  await insertSubmission(
    tx,
    {
      runId, flow: req.pipeline.id, period: formatPeriod(req.period), environment: req.environment, receiver: f.receiver,
      sender: req.sender, purpose: req.pipeline.purpose, creationDate, sequence, parts: 1, createdAt,
    },
    [{ fileKey: f.fileKey, kind: 'FI', name, part: 1, receiver: f.receiver, path: finalPath, records: f.records, bytes: f.bytes, sha256: f.sha256 }],
  );
}
