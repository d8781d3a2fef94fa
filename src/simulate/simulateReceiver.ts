import { createReadStream, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { PIPELINES } from '../../pipelines/index.js';
import type { Anomaly } from '../ack/replyXml.js';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../domain/environment.js';
import { MaillonError } from '../errors/errors.js';
import { type BatchFileName, formatBatchFileName, formatSequence, parseBatchFileName } from '../package/batchFileName.js';
import { brusselsDate, brusselsTimeOfDay } from '../period/localDate.js';
import type { XsdValidator } from '../render/xsdValidator.js';
import type * as pkijs from 'pkijs';
import { type CmsSigner, formatSignature, verifyDetached } from '../sign/cms.js';
import { acrfXml, notiXml } from './replyDocuments.js';
import { zipOne } from './zipOne.js';

/** How the simulated institution behaves. */
export interface SimulatorOptions {
  /** The receiver's SFTP root, holding IN, OUT and OUTTEST. */
  root: string;
  schemasDir: string;
  validator: XsdValidator;
  clock: Clock;
  /** Records (by INSS) given a blocking anomaly: rejected. */
  rejectInss?: ReadonlySet<string>;
  /** Records (by INSS) given a non-blocking anomaly: accepted with anomalies. */
  warnInss?: ReadonlySet<string>;
  /** Share of the records (0–1, drawn by INSS, the same on every pass) given a blocking anomaly. */
  rejectRate?: number;
  /** Share of the other records (0–1, drawn by INSS) given a non-blocking anomaly. */
  warnRate?: number;
  /** Data files answered with a negative ACRF. */
  rejectFiles?: ReadonlySet<string>;
  /** Replies larger than this many bytes are zipped and named CO (the channel does it over 50 MB). */
  zipAbove?: number;
  /** Signs every reply (FS companion written before its GO), as the institutions do. */
  signer?: CmsSigner;
  /** When set, our FS signatures are checked against these CA certificates; a bad one gets a negative ACRF. */
  trusted?: readonly pkijs.Certificate[];
}

/** What one pass of the simulator did. */
export interface SimulatorPass {
  submissions: string[];
  replies: string[];
}

const OPERATOR = '999999';
const PURPOSE_SCHEMA = new Map(PIPELINES.map((p) => [p.purpose, p.output.kind === 'xml' ? p.output.schema : null]));

/**
 * Plays the receiving institution on a folder: takes every complete submission in IN (its GO
 * present), checks each data file (XSD of its flow), answers an ACRF per file and, for accepted
 * files, a NOTI with the configured anomalies, each reply followed by its own GO in OUT (R) or
 * OUTTEST (T, S); then moves the submission out of IN (as the channel picks it up).
 */
export async function simulateReceiver(opts: SimulatorOptions): Promise<SimulatorPass> {
  const inDir = path.join(opts.root, 'IN');
  const pass: SimulatorPass = { submissions: [], replies: [] };
  for (const goName of (await fs.readdir(inDir)).filter((n) => n.startsWith('GO.')).sort()) {
    let go: BatchFileName;
    try {
      go = parseBatchFileName(goName);
    } catch {
      continue;
    }
    const parts = Array.from({ length: go.parts ?? 1 }, (_, i) => formatBatchFileName({ ...go, kind: 'FI', part: i + 1 }));
    const td = formatBatchFileName({ ...go, kind: 'TD' });
    if (existsSync(path.join(inDir, td))) {
      // Cancelled before we processed it: take it away, answer nothing.
      const present = [...parts, ...parts.map((p) => p.replace(/^FI\./, 'FS.'))].filter((p) => existsSync(path.join(inDir, p)));
      await moveAway(inDir, '.cancelled', [...present, goName, td]);
      continue;
    }
    if (!parts.every((p) => existsSync(path.join(inDir, p)))) continue;
    pass.submissions.push(goName);
    const signatures = parts.map((p) => p.replace(/^FI\./, 'FS.')).filter((n) => existsSync(path.join(inDir, n)));
    for (const part of parts) {
      const file = path.join(inDir, part);
      const problem = (await checkFile(opts, go.purpose, file)) ?? (await checkSignature(opts, inDir, part));
      const accepted = problem === null && !opts.rejectFiles?.has(part);
      const errorIds = accepted ? [] : [problem?.startsWith('signature') || problem === 'no signature file' ? 'E003-SIGNATURE' : problem ? 'E001-SCHEMA' : 'E002-REFUSED'];
      const now = created(opts.clock);
      pass.replies.push(await writeReply(opts, go.environment, 'ACRF', acrfXml({ fileName: part, accepted, errorIds }, now, `REF${part.split('.')[4]}`)));
      if (!accepted) continue;
      const anomalies = await anomaliesOf(opts, file);
      const result = anomalies.length === 0 ? 'accepted' : 'accepted_with_anomalies';
      pass.replies.push(await writeReply(opts, go.environment, 'NOTI', notiXml({ fileName: part, result, anomalies }, now)));
    }
    await moveAway(inDir, '.processed', [...parts, ...signatures, goName]);
  }
  return pass;
}

async function moveAway(inDir: string, folder: string, names: string[]): Promise<void> {
  const done = path.join(inDir, folder);
  await fs.mkdir(done, { recursive: true });
  for (const n of names) await fs.rename(path.join(inDir, n), path.join(done, n));
}

async function checkSignature(opts: SimulatorOptions, inDir: string, part: string): Promise<string | null> {
  if (!opts.trusted) return null;
  const fsFile = path.join(inDir, part.replace(/^FI\./, 'FS.'));
  if (!existsSync(fsFile)) return 'no signature file';
  const verdict = await verifyDetached(await fs.readFile(fsFile, 'ascii'), path.join(inDir, part), opts.trusted);
  return verdict.ok ? null : `signature: ${verdict.reason}`;
}

async function checkFile(opts: SimulatorOptions, purpose: string, file: string): Promise<string | null> {
  const schema = PURPOSE_SCHEMA.get(purpose);
  if (schema === undefined) return `unknown purpose ${purpose}`;
  if (schema === null) return null;
  try {
    await opts.validator.validate([file], path.join(opts.schemasDir, schema));
    return null;
  } catch (err) {
    if (err instanceof MaillonError) return err.message;
    throw err;
  }
}

/** The configured anomalies for the records of a file (one record per line in our files). */
async function anomaliesOf(opts: SimulatorOptions, file: string): Promise<Anomaly[]> {
  const out: Anomaly[] = [];
  const rejectRate = opts.rejectRate ?? 0;
  const warnRate = opts.warnRate ?? 0;
  if (!opts.rejectInss?.size && !opts.warnInss?.size && rejectRate === 0 && warnRate === 0) return out;
  for await (const line of readline.createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    const inss = /<(?:INSS|f2011_nationaalnr)>(\d{11})</.exec(line)?.[1];
    if (!inss) continue;
    const id = /<AttestationID>(\d+)</.exec(line)?.[1];
    // A capture of 13 characters or more is a slice of its line, itself a slice of the 64 KB chunk
    // readline read: kept in an anomaly, it would keep the whole chunk alive. Copied, it keeps 14 bytes.
    const attestationId = id === undefined ? null : Buffer.from(id, 'latin1').toString('latin1');
    const draw = rejectRate + warnRate > 0 ? drawOf(inss) : 1;
    if (opts.rejectInss?.has(inss) || draw < rejectRate) out.push({ inss, attestationId, blocking: true, code: 'B0042', description: 'record refused by the receiver' });
    else if (opts.warnInss?.has(inss) || draw < rejectRate + warnRate) out.push({ inss, attestationId, blocking: false, code: 'N0007', description: 'record accepted with a remark' });
  }
  return out;
}

/** A number in [0, 1) fixed by the INSS (FNV-1a), so that a rate picks the same records on every pass. */
export function drawOf(inss: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < inss.length; i++) h = Math.imul(h ^ inss.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

function created(clock: Clock): { date: string; hour: string } {
  const now = clock.now();
  return { date: brusselsDate(now), hour: brusselsTimeOfDay(now) };
}

async function writeReply(opts: SimulatorOptions, env: Environment, purpose: 'ACRF' | 'NOTI', xml: string): Promise<string> {
  const dir = path.join(opts.root, env === 'R' ? 'OUT' : 'OUTTEST');
  await fs.mkdir(dir, { recursive: true });
  const date = brusselsDate(opts.clock.now());
  const sequence = await nextSequence(opts.root, date, env);
  const zipped = opts.zipAbove !== undefined && Buffer.byteLength(xml) > opts.zipAbove;
  const name = formatBatchFileName({ kind: zipped ? 'CO' : 'FO', purpose, sender: OPERATOR, date, sequence, environment: env });
  const body = zipped ? await zipOne(`${name.replace(/^CO/, 'FO')}.xml`, xml) : Buffer.from(xml, 'utf8');
  await atomicWrite(path.join(dir, name), body);
  if (opts.signer) {
    const sig = formatSignature(await opts.signer.signFile(path.join(dir, name), opts.clock.now()), 'cr76');
    await atomicWrite(path.join(dir, formatBatchFileName({ kind: 'FS', purpose, sender: OPERATOR, date, sequence, environment: env, parts: 1, part: 1 })), Buffer.from(sig, 'ascii'));
  }
  await atomicWrite(path.join(dir, formatBatchFileName({ kind: 'GO', purpose, sender: OPERATOR, date, sequence, environment: env, parts: 1 })), Buffer.alloc(0));
  return name;
}

async function nextSequence(root: string, date: string, env: Environment): Promise<string> {
  const file = path.join(root, '.simulator', `seq-${date}-${env}`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const n = Number(await fs.readFile(file, 'utf8').catch(() => '0')) + 1;
  await fs.writeFile(file, String(n));
  return formatSequence(n);
}

async function atomicWrite(file: string, body: Buffer): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.part`);
  await fs.writeFile(tmp, body, { mode: 0o644 });
  await fs.rename(tmp, file);
}
