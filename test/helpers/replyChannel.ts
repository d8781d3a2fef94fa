import fs from 'node:fs/promises';
import path from 'node:path';
import { career } from '../../pipelines/career.js';
import { type AckDeps, ingestReplies, type ReplyOutcome } from '../../src/ack/ingestReplies.js';
import type { Anomaly } from '../../src/ack/replyXml.js';
import { fixedClock } from '../../src/clock/clock.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { createLogger } from '../../src/log/logger.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { simulateReceiver, type SimulatorOptions, type SimulatorPass } from '../../src/simulate/simulateReceiver.js';
import type * as pkijs from 'pkijs';
import { type CmsSigner, createCmsSigner, formatSignature, parseCertificates } from '../../src/sign/cms.js';
import { loadSigning, type Signing } from '../../src/sign/signingIdentity.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { type SendDeps, sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { createFlowFixture, type FlowFixture } from './flowFixture.js';
import { createTestPki } from './pki.js';
import { ROOT } from './runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from './sshd.js';

/** The instant of every run, send and reply of these tests. */
export const CHANNEL_CLOCK = fixedClock('2026-10-10T04:00:00+02:00');

/** A career dossier, a real OpenSSH server as the partner, and ways to send, answer and read replies. */
export interface ReplyChannel {
  sshd: TestSshd;
  fx: FlowFixture;
  sendDeps: SendDeps;
  ackDeps: AckDeps;
  /**
   * Runs career in an environment and sends it; returns the run, its period and its submission id.
   * Each call takes the next quarter back from 2026-Q3 in that environment: a period its receiver
   * holds is never run twice.
   */
  runAndSend(environment: 'R' | 'T' | 'S'): Promise<{ run: RunResult; period: string; submissionId: number; file: string }>;
  /** The simulated receiver answers what is in IN. */
  simulate(options?: Partial<SimulatorOptions>): Promise<SimulatorPass>;
  /** Puts a reply (and its GO) in OUT or OUTTEST under a fresh name of that environment; returns the name. */
  put(folder: 'OUT' | 'OUTTEST', environment: 'R' | 'T' | 'S', purpose: 'ACRF' | 'NOTI', body: string | Buffer, kind?: 'FO' | 'CO'): Promise<string>;
  /** Puts in OUTTEST an ACRF accepting the T file `file`, then a NOTI about it with `result` and `anomalies` (as notiBody writes them). */
  putAcrfAndNoti(file: string, result: 1 | 2 | 3, anomalies: Partial<Record<keyof Anomaly, string>>[]): Promise<void>;
  /** Signs a reply put on the server as the channel operator does (its FS companion beside it, by the test PKI's receiver). */
  sign(folder: 'OUT' | 'OUTTEST', name: string): Promise<void>;
  /** The test PKI's receiver, as a signer (for the simulator's `signer`). */
  signer(): Promise<CmsSigner>;
  /** The test PKI's CA, which the receiver's signatures chain to (MAILLON_TRUST_STORE). */
  trustStore(): Promise<pkijs.Certificate[]>;
  acks(environment: 'R' | 'T' | 'S', deps?: Partial<AckDeps>): Promise<ReplyOutcome[]>;
  stateOf(submissionId: number): Promise<string>;
  close(): Promise<void>;
}

let sequence = 50_000;

/** Starts the channel (its own sshd and database); `ackDeps` may be overridden per call of `acks`. */
export async function createReplyChannel(overrides: Partial<AckDeps> = {}): Promise<ReplyChannel> {
  const sshd = await requireTestSshd();
  const fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
  const base = path.dirname(fx.outbox);
  const endpoints = loadEndpoints(await writeReceiversFile(sshd, path.join(base, 'receivers.json')));
  const logger = createLogger('silent');
  const pki = await createTestPki(path.join(base, 'pki'));
  let signing: Signing | undefined;
  const used: Record<string, number> = {};
  const nextQuarter = (environment: string): string => {
    const back = (used[environment] = (used[environment] ?? -1) + 1);
    const index = 2026 * 4 + 2 - back;
    return `${Math.floor(index / 4)}-Q${(index % 4) + 1}`;
  };
  const sendDeps: SendDeps = { ledger: fx.db.pool, clock: CHANNEL_CLOCK, logger, endpoints, passphrase: () => undefined, backoffMs: 10 };
  const ackDeps: AckDeps = {
    ledger: fx.db.pool,
    clock: CHANNEL_CLOCK,
    logger,
    endpoints,
    passphrase: () => undefined,
    repliesDir: path.join(base, 'replies'),
    maxReplyBytes: 1_000_000,
    ...overrides,
  };
  const put: ReplyChannel['put'] = async (folder, environment, purpose, body, kind = 'FO') => {
    const seq = String(++sequence);
    const name = `${kind}.${purpose}.999999.20261010.${seq}.${environment}`;
    await fs.writeFile(path.join(sshd.root, folder, name), body);
    await fs.writeFile(path.join(sshd.root, folder, `GO.${purpose}.999999.20261010.${seq}.${environment}.1`), '');
    return name;
  };
  return {
    sshd,
    fx,
    sendDeps,
    ackDeps,
    async runAndSend(environment) {
      // Production files must be signed; the test PKI signs them.
      signing ??= await loadSigning({ certPath: pki.fundCert, keyPath: pki.fundKey, layout: 'cr76', signTest: false });
      const period = nextQuarter(environment);
      const run = await fx.run(career, period, environment, environment === 'R' ? signing : undefined);
      const sent = await sendSubmissions(sendDeps);
      if (!sent.every((s) => s.result === 'sent')) throw new Error(`send failed: ${JSON.stringify(sent)}`);
      const id = (await fx.db.pool.query('SELECT submission_id FROM maillon.submissions WHERE run_id = $1', [run.runId])).rows[0].submission_id;
      return { run, period, submissionId: Number(id), file: run.files[0]!.name };
    },
    simulate: (options = {}) => simulateReceiver({ root: sshd.root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock: CHANNEL_CLOCK, ...options }),
    put,
    async putAcrfAndNoti(file, result, anomalies) {
      await put('OUTTEST', 'T', 'ACRF', acrfBody(file, true));
      await put('OUTTEST', 'T', 'NOTI', notiBody(file, result, anomalies));
    },
    signer: async () => createCmsSigner(await fs.readFile(pki.receiverCert, 'utf8'), await fs.readFile(pki.receiverKey)),
    async sign(folder, name) {
      const signer = await createCmsSigner(await fs.readFile(pki.receiverCert, 'utf8'), await fs.readFile(pki.receiverKey));
      const signature = formatSignature(await signer.signFile(path.join(sshd.root, folder, name), CHANNEL_CLOCK.now()), 'cr76');
      await fs.writeFile(path.join(sshd.root, folder, `FS.${name.slice(3)}.1.1`), signature);
    },
    trustStore: async () => parseCertificates(await fs.readFile(pki.caCert, 'utf8')),
    acks: (environment, deps = {}) => ingestReplies({ ...ackDeps, ...deps }, environment),
    async stateOf(submissionId) {
      return (await fx.db.pool.query('SELECT state FROM maillon.submissions WHERE submission_id = $1', [submissionId])).rows[0].state;
    },
    async close() {
      await sshd.stop();
      await fx.close();
    },
  };
}

/** An ACRF about a file, as the channel writes it. */
export function acrfBody(fileName: string, accepted: boolean): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><ACRF><Form><Identification>ACRF001</Identification><FileReference><FileName>${fileName}</FileName></FileReference>` +
    `<ReceptionResult><ResultCode>${accepted ? 1 : 0}</ResultCode>${accepted ? '' : '<ErrorID>E002-REFUSED</ErrorID>'}</ReceptionResult></Form></ACRF>`
  );
}

/** A NOTI about a file; anomalies' fields are written as given (hostile values included). */
export function notiBody(fileName: string, result: 1 | 2 | 3, anomalies: Partial<Record<keyof Anomaly, string>>[] = []): string {
  const items = anomalies
    .map(
      (a) =>
        `<Anomaly>${a.inss !== undefined ? `<INSS>${a.inss}</INSS>` : ''}${a.attestationId !== undefined ? `<AttestationID>${a.attestationId}</AttestationID>` : ''}` +
        `<Class>${a.blocking ?? 'N'}</Class><Code>${a.code ?? 'N0007'}</Code><Description>${a.description ?? 'remark'}</Description></Anomaly>`,
    )
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?><NOTI><Form><Identification>NOTI001</Identification><FileReference><FileName>${fileName}</FileName></FileReference>` +
    `<Result>${result}</Result><Anomalies>${items}</Anomalies></Form></NOTI>`
  );
}
