import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../domain/environment.js';
import { BEGIN, connect, type Pool, type PoolClient } from '../db/database.js';
import { ConfigError } from '../errors/errors.js';
import { checkParts, streamValidationOf } from './checkParts.js';
import { keepDocuments, makeDocumentsTmp } from './documentsFolder.js';
import { type Correction, type CorrectionPlan, planDigest } from './correction.js';
import { planChanged, prepareCorrection, refuseIfBaseMoved } from './rerunVersion.js';
import { readDossierVersion, settleHeldRun } from './heldPlan.js';
import { checkPeriodComplete, checkPeriodOpen, claimPeriod, dryRunNotice, receiverKinds, secondOriginal } from './periodGuard.js';
import type { Signing } from '../sign/signingIdentity.js';
import { lockEventChain } from '../ledger/events.js';
import { refuseIfPaused } from '../ledger/flowPauses.js';
import { checkOutcomes } from '../ledger/outcomeWriter.js';
import { clearPeriodRetries } from '../ledger/periodRetries.js';
import { readPeriodView } from '../ledger/periodView.js';
import { closeAbandonedRuns, failRun, type RunCounts, type RunVersion, runCommittedAfterAll, startRun, succeedRun } from '../ledger/runs.js';
import type { Logger } from '../log/logger.js';
import { prepareOutbox, syncOutbox } from '../package/outbox.js';
import { brusselsDate, type LocalDate } from '../period/localDate.js';
import { formatPeriod, type Period } from '../period/period.js';
import type { FundIdentity } from '../render/envelope.js';
import type { XsdValidator } from '../render/xsdValidator.js';
import type { AnyPipeline } from './pipeline.js';
import { type PublishedFile, publishSubmissions, unpublish } from './publish.js';
import { extractionParams, type RenderedSubmission, renderFiles } from './renderFiles.js';
import { bindSql } from '../extract/bindSql.js';

export type { PublishedFile } from './publish.js';

/** What a run needs from its surroundings. */
export interface RunDeps {
  ledger: Pool;
  dossier: Pool;
  clock: Clock;
  logger: Logger;
  outbox: string;
  /** Where printable documents are kept (flows that have some). */
  documentsDir: string;
  schemasDir: string;
  validator: XsdValidator;
  fund: FundIdentity;
  /** The fund's signing identity; required for production (R), used in test (T) when configured so. */
  signing?: Signing | null;
  onProgress?: (extracted: number) => void;
  /** Called before a writing run publishes its files, and once its transaction committed (the pause and crash tests stop the process there). */
  onStep?: (step: 'before-publish' | 'after-commit') => void | Promise<void>;
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
  /** A rerun: a new version of a period already sent, compared record by record with it. */
  correction?: {
    reason: string;
    full: boolean;
    /** The fingerprint of the plan the operator confirmed: a run that computes another one is refused (PlanChangedError). */
    expectedPlan?: string;
    /** Submissions answered after their cancel whose receiver told the operator it holds none of them: sent again. */
    receiverHoldsNothing?: readonly number[];
  };
  /**
   * A rerun that holds its plan (not with dryRun): called with the plan once the files are rendered
   * and checked, in the run's open transaction. true sends the run as it was shown, unless the
   * dossier changed since the extraction: the run then ends as a dry run marked `stale`, for the
   * caller to compute again with expectedPlan. false ends it as a dry run: nothing written.
   */
  confirmPlan?: (planned: Omit<RunResult, 'notice'>) => Promise<boolean>;
  /** Who asked: an operator's run resets the scheduler's failures of the period (default operator). */
  trigger?: 'operator' | 'schedule';
}

/** The result of a run. */
export interface RunResult {
  runId: number;
  dryRun: boolean;
  asOf: Date;
  counts: RunCounts;
  quarantineByRule: Record<string, number>;
  files: PublishedFile[];
  /** Printable documents written (folder is null for a dry run or a flow without documents). */
  documents: { folder: string | null; count: number };
  /** The flow's facts reported beside its records, or null. */
  facts: Record<string, unknown> | null;
  /** For a rerun: what changed compared with the version the receivers hold. */
  plan: (CorrectionPlan & { previousRunId: number; kind: string; digest: string }) | null;
  /** A dry run of a period its receivers already hold: what a real run would meet; else null. */
  notice: string | null;
  /** A held rerun whose dossier changed while its plan was shown: nothing was written. */
  stale?: boolean;
}

/**
 * Runs one pipeline for one period, top to bottom:
 * check the request (a complete period, not closed) → claim the period (its lock; refused when a receiver holds it, unless a
 * rerun) → record the run (its liveness lock on the run's own session) → extract, validate,
 * render (temporary files, outcomes streamed to the ledger) → check every file (XSD, or manifest
 * against tables) → allocate sequences, name and publish the files, record submissions and the
 * run's success → commit. A dry run stops before the sequences and rolls everything back but the
 * run row. The session ends with the run, and with it every lock.
 */
export async function runPipeline(deps: RunDeps, req: RunRequest): Promise<RunResult> {
  const signing = signingFor(deps, req.environment);
  const started = deps.clock.now();
  const asOf = req.asOf ?? started;
  const periodKey = formatPeriod(req.period);
  checkPeriodComplete(req.pipeline.id, req.period, asOf, started);
  // The day the file is written, not the as-of day: an earlier --as-of does not reopen a closed period.
  checkPeriodOpen(req.pipeline, req.period, brusselsDate(started));
  await closeAbandonedRuns(deps.ledger, started);
  const session = await connect(deps.ledger);
  let runId: number | undefined;
  let ended = false;
  try {
    const view = await claimPeriod(session, {
      flow: req.pipeline.id,
      period: periodKey,
      environment: req.environment,
      dryRun: req.dryRun,
      correction: Boolean(req.correction),
      receiverHoldsNothing: req.correction?.receiverHoldsNothing ?? [],
      byOperator: req.trigger !== 'schedule',
    });
    const { correction, version } = await prepareCorrection(deps.ledger, req, periodKey);
    // A held rerun is recorded as a dry run until its plan is confirmed and sent.
    const dryRun = req.dryRun || req.confirmPlan !== undefined;
    runId = await startRun(session, { flow: req.pipeline.id, period: periodKey, environment: req.environment, asOf, dryRun }, started, version);
    const result = await executeRun(deps, req, session, { runId, started, asOf, periodKey, signing, correction, version });
    return { ...result, notice: req.dryRun ? dryRunNotice(view) : null };
  } catch (err) {
    if (runId !== undefined) {
      // The session may be in the middle of the lineage COPY, where a ROLLBACK would wait
      // forever: closing it makes PostgreSQL roll the transaction back and release the run's
      // locks and rows. Only then is the failure recorded (a run already succeeded stays so).
      ended = true;
      session.release(err as Error);
      await failRun(deps.ledger, runId, deps.clock.now(), err as Error).catch(() => undefined);
    }
    throw err;
  } finally {
    if (!ended) {
      const unlocked = await session.query('SELECT pg_advisory_unlock_all()').then(
        () => undefined,
        (e: Error) => e,
      );
      session.release(unlocked);
    }
  }
}

interface RunContext {
  runId: number;
  started: Date;
  asOf: Date;
  periodKey: string;
  signing: Signing | null;
  correction?: Correction;
  version?: RunVersion;
}

async function executeRun(deps: RunDeps, req: RunRequest, session: PoolClient, ctx: RunContext): Promise<Omit<RunResult, 'notice'>> {
  const { runId, started, asOf, periodKey, signing, correction, version } = ctx;
  const { pipeline } = req;
  const log = deps.logger.child({ runId, flow: pipeline.id, period: periodKey, environment: req.environment });
  log.info({ asOf: asOf.toISOString(), dryRun: req.dryRun }, 'run started');
  // Every step from here on is inside the try: a run recorded as started is recorded as failed
  // when any of them throws (the outbox unwritable, the database gone before the transaction).
  let tmpDir: string | undefined;
  let docsTmp: string | undefined;
  const published: PublishedFile[] = [];
  let rendered: RenderedSubmission[] = [];
  let docsFolder: string | null = null;
  let committed = false;
  try {
    tmpDir = req.dryRun ? await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-dry-')) : await prepareOutbox(deps.outbox);
    if (pipeline.documents) docsTmp = await makeDocumentsTmp(deps.documentsDir, req.dryRun, tmpDir);
    const held = req.confirmPlan !== undefined && !req.dryRun;
    const dossierVersion = held ? await readDossierVersion(deps.dossier) : null;
    await session.query(BEGIN);
    const creationDate = brusselsDate(started);
    const out = await renderFiles(deps.dossier, session, {
      pipeline,
      period: req.period,
      environment: req.environment,
      sender: req.sender,
      asOf,
      asOfDay: brusselsDate(asOf),
      creation: started,
      creationDate,
      runId,
      tmpDir,
      schemasDir: deps.schemasDir,
      documentsTmpDir: docsTmp,
      fund: deps.fund,
      onProgress: deps.onProgress,
      streamValidation: streamValidationOf(deps.validator, deps.schemasDir, pipeline),
      ...(correction ? { correction } : {}),
    });
    rendered = out.submissions;
    const digest = correction ? planDigest(correction) : null;
    if (digest !== null && req.correction?.expectedPlan !== undefined && digest !== req.correction.expectedPlan) throw planChanged(req, periodKey, out.counts, correction!.plan);
    const facts = pipeline.facts ? await readFacts(deps.dossier, pipeline.facts, req.period, brusselsDate(asOf)) : null;
    log.info({ ...out.counts, submissions: rendered.length, documents: out.documents }, 'records rendered');
    await checkParts(deps.validator, deps.schemasDir, pipeline, rendered);
    log.info({ validator: pipeline.output.kind === 'xml' ? deps.validator.name : 'manifest' }, 'files checked');
    const planOf = (): RunResult['plan'] => (correction && version ? { ...correction.plan, previousRunId: version.previousRunId!, kind: version.kind, digest: digest! } : null);
    const resultOf = (dryRun: boolean) => ({
      runId,
      dryRun,
      asOf,
      counts: out.counts,
      quarantineByRule: out.quarantineByRule,
      files: published,
      documents: { folder: docsFolder, count: out.documents },
      facts,
      plan: planOf(),
    });
    const outcome = held ? await settleHeldRun(session, deps.dossier, runId, await req.confirmPlan!(resultOf(true)), dossierVersion) : null;
    if (outcome !== null) log.info({ outcome }, 'plan held');
    if (req.dryRun || (outcome !== null && outcome !== 'send')) {
      await session.query('ROLLBACK');
      await succeedRun(session, runId, deps.clock.now(), out.counts, facts);
    } else {
      await deps.onStep?.('before-publish');
      // The versions this correction builds on are still live and refused no more records: a reply may have come since.
      if (correction) await refuseIfBaseMoved(session, req, periodKey, correction.previous);
      const kinds = receiverKinds(await readPeriodView(session, req.environment, pipeline.id, periodKey), version);
      await publishSubmissions(
        session,
        deps.outbox,
        { runId, pipeline, period: periodKey, environment: req.environment, sender: req.sender, creationDate, createdAt: started, signing, tmpDir, kinds },
        rendered,
        published,
      ).catch((err: unknown) => {
        throw secondOriginal(err, pipeline.id, periodKey, req.environment);
      });
      // A pause recorded while the run was computed (a rerun's plan waiting for its confirmation): checked
      // under the event chain's lock, which the written events took after the sequences' rows, so that a
      // pause is recorded either before this run's files (refused: nothing of them stays) or after its commit.
      await lockEventChain(session);
      await refuseIfPaused(session, req.environment, pipeline.id);
      // The published names must be on disk before the ledger says the files exist.
      if (published.length > 0) await syncOutbox(deps.outbox);
      await checkOutcomes(session, runId);
      if (docsTmp) docsFolder = await keepDocuments(deps.documentsDir, docsTmp, pipeline.id, periodKey, req.environment, runId);
      // The run's success is committed with its files: there is no instant where they exist and the run says running.
      await succeedRun(session, runId, deps.clock.now(), out.counts, facts);
      await clearPeriodRetries(session, { flow: pipeline.id, period: periodKey, environment: req.environment });
      await session.query('COMMIT').catch(async (err: unknown) => {
        // The answer to COMMIT may be lost with the connection while the ledger committed: the
        // files it names then stay (a run that did not commit leaves them to the next run, which
        // moves files the ledger does not know aside).
        const after = await runCommittedAfterAll(deps.ledger, runId);
        if (after === true) {
          log.warn({ err: (err as Error).message }, 'the answer to COMMIT was lost; the ledger shows the run committed');
          return;
        }
        if (after === null) committed = true;
        throw err;
      });
      committed = true;
      await deps.onStep?.('after-commit');
    }
    log.info({ ...out.counts, files: published.map((f) => f.name) }, 'run succeeded');
    return { ...resultOf(req.dryRun || (outcome !== null && outcome !== 'send')), ...(outcome === 'stale' ? { stale: true } : {}) };
  } catch (err) {
    if (!committed) {
      // Nothing was committed: no file or document of this run may stay visible.
      await unpublish(published);
      if (docsFolder) await fs.rm(docsFolder, { recursive: true, force: true });
    }
    throw err;
  } finally {
    for (const s of rendered) for (const p of s.parts) await fs.rm(p.tmpPath, { force: true });
    if (docsTmp) await fs.rm(docsTmp, { recursive: true, force: true });
    if (req.dryRun && tmpDir) await fs.rm(tmpDir, { recursive: true, force: true });
  }
}

/** Production is always signed, simulation never, test when configured so. */
function signingFor(deps: RunDeps, environment: Environment): Signing | null {
  if (environment === 'S') return null;
  if (environment === 'R' && !deps.signing) {
    throw new ConfigError('Production (R) submissions must be signed: set MAILLON_SIGN_CERT and MAILLON_SIGN_KEY (or MAILLON_SIGN_P12).');
  }
  return environment === 'R' || deps.signing?.signTest ? (deps.signing ?? null) : null;
}

async function readFacts(dossier: Pool, sql: string, period: Period, asOfDay: LocalDate): Promise<Record<string, unknown>> {
  const res = await dossier.query<Record<string, unknown>>(bindSql(sql, extractionParams(period, asOfDay)));
  return Object.values(res.rows[0] ?? {})[0] as Record<string, unknown>;
}
