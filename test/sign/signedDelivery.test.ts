import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { exportEvidence } from '../../src/evidence/exportEvidence.js';
import { career } from '../../pipelines/career.js';
import { type AckDeps, ingestReplies } from '../../src/ack/ingestReplies.js';
import { fixedClock } from '../../src/clock/clock.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import { createLogger } from '../../src/log/logger.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { createCmsSigner, parseCertificates } from '../../src/sign/cms.js';
import { loadSigning, type Signing } from '../../src/sign/signingIdentity.js';
import { simulateReceiver } from '../../src/simulate/simulateReceiver.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { type SendDeps, sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { ROOT } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

const clock = fixedClock('2026-10-10T04:00:00+02:00');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function readZip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error(`cannot open ${file}`));
      const out = new Map<string, Buffer>();
      zip.on('entry', (e: yauzl.Entry) =>
        zip.openReadStream(e, (e2, stream) => {
          if (e2 || !stream) return reject(e2 ?? new Error(`cannot read ${e.fileName}`));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.set(e.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        }),
      );
      zip.on('end', () => resolve(out));
      zip.readEntry();
    });
  });
}

describe('signed submissions and verified replies, in production (R)', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let pki: TestPki;
  let signing: Signing;
  let sendDeps: SendDeps;
  let ackDeps: AckDeps;
  const out = (): string => path.join(sshd.root, 'OUT');
  const simulate = async (signerCert: string, signerKey: string) =>
    simulateReceiver({
      root: sshd.root,
      schemasDir: SCHEMAS_DIR,
      validator: createXsdValidator(undefined),
      clock,
      signer: await createCmsSigner(await fs.readFile(signerCert, 'utf8'), await fs.readFile(signerKey)),
      trusted: parseCertificates(await fs.readFile(pki.caCert, 'utf8')),
    });
  const stateOf = async (runId: number): Promise<string> => (await fx.db.pool.query('SELECT state FROM maillon.submissions WHERE run_id = $1', [runId])).rows[0].state;

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    pki = await createTestPki(path.join(path.dirname(fx.outbox), 'pki'));
    signing = await loadSigning({ certPath: pki.fundCert, keyPath: pki.fundKey, layout: 'cr76', signTest: false });
    const endpoints = loadEndpoints(await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers.json')));
    const logger = createLogger('silent');
    sendDeps = { ledger: fx.db.pool, clock, logger, endpoints, passphrase: () => undefined, backoffMs: 10 };
    ackDeps = {
      ledger: fx.db.pool,
      clock,
      logger,
      endpoints,
      passphrase: () => undefined,
      repliesDir: path.join(path.dirname(fx.outbox), 'replies'),
      maxReplyBytes: 1_000_000,
      trustStore: parseCertificates(await fs.readFile(pki.caCert, 'utf8')),
      evidenceDir: path.join(path.dirname(fx.outbox), 'evidence'),
    };
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('uploads the FS signature before the GO; openssl verifies it against the bytes the server received', async () => {
    const run = await fx.run(career, '2026-Q3', 'R', signing);
    expect(run.files.map((f) => f.name)).toEqual(['FI.CARR.012345.20261010.00001.R.1.1', 'FS.CARR.012345.20261010.00001.R.1.1']);
    expect((await sendSubmissions(sendDeps))[0]!.result).toBe('sent');
    const inbox = (await fs.readdir(path.join(sshd.root, 'IN'))).sort();
    expect(inbox).toEqual(['FI.CARR.012345.20261010.00001.R.1.1', 'FS.CARR.012345.20261010.00001.R.1.1', 'GO.CARR.012345.20261010.00001.R.1']);
    const der = path.join(path.dirname(fx.outbox), 'received.der');
    execFileSync('sh', ['-c', `tr -d '\\r' < "${path.join(sshd.root, 'IN', inbox[1]!)}" | base64 -d > "${der}"`]);
    execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', der, '-content', path.join(sshd.root, 'IN', inbox[0]!), '-CAfile', pki.caCert, '-out', '/dev/null'], {
      stdio: 'pipe',
    });
    const attempt = await fx.db.pool.query(`SELECT detail FROM maillon.transfer_attempts WHERE outcome = 'sent'`);
    expect(attempt.rows[0].detail.files.map((f: { name: string }) => f.name)).toEqual(inbox.slice(0, 2));
    // The receiver checks our signature, answers with signed replies; we verify them before believing them.
    await simulate(pki.receiverCert, pki.receiverKey);
    const replies = await ingestReplies(ackDeps, 'R');
    expect(replies.map((r) => r.result)).toEqual(['processed', 'processed']);
    const sig = await fx.db.pool.query(`SELECT signature FROM maillon.replies ORDER BY reply_id`);
    expect(sig.rows.map((r) => r.signature)).toEqual(['verified: signed by Channel operator (test)', 'verified: signed by Channel operator (test)']);
    expect(await stateOf(run.runId)).toBe('accepted');
  });

  it('exports an evidence pack whose manifest hashes match the bytes the SFTP server received', async () => {
    const pack = path.join(ackDeps.evidenceDir!, 'career', '2026-Q3', 'R', 'submission-1');
    expect((await fs.stat(path.join(pack, 'manifest.json'))).mode & 0o777).toBe(0o400);
    expect((await fs.stat(pack)).mode & 0o777).toBe(0o500);
    const zipPath = path.join(path.dirname(fx.outbox), 'evidence.zip');
    const result = await exportEvidence(fx.db.pool, ackDeps.evidenceDir!, 'career', '2026-Q3', 'R', zipPath, clock);
    expect(result.packs).toBe(1);
    const entries = await readZip(zipPath);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as { files: { path: string; sha256: string }[] };
    for (const f of manifest.files) expect(sha(entries.get(f.path)!), f.path).toBe(f.sha256);
    const received = path.join(sshd.root, 'IN', '.processed');
    for (const name of ['FI.CARR.012345.20261010.00001.R.1.1', 'FS.CARR.012345.20261010.00001.R.1.1']) {
      expect(manifest.files.find((f) => f.path === `submission-1/sent/${name}`)!.sha256).toBe(sha(await fs.readFile(path.join(received, name))));
    }
    const transcript = JSON.parse(entries.get('submission-1/transcript.json')!.toString('utf8'));
    expect(transcript.attempts[0]).toMatchObject({ outcome: 'sent', host_key: sshd.hostKeyFingerprint });
    expect(transcript.attempts[0].detail.files.map((f: { name: string }) => f.name)).toEqual(['FI.CARR.012345.20261010.00001.R.1.1', 'FS.CARR.012345.20261010.00001.R.1.1']);
    const replies = JSON.parse(entries.get('submission-1/replies.json')!.toString('utf8'));
    expect(replies.map((r: { signature: string }) => r.signature)).toEqual(['verified: signed by Channel operator (test)', 'verified: signed by Channel operator (test)']);
    expect([...entries.keys()].filter((k) => k.startsWith('submission-1/replies/FO.'))).toHaveLength(2);
    // Written once: exporting again reads the same pack.
    const before = (await fs.stat(path.join(pack, 'manifest.json'))).mtimeMs;
    await exportEvidence(fx.db.pool, ackDeps.evidenceDir!, 'career', '2026-Q3', 'R', path.join(path.dirname(fx.outbox), 'evidence-again.zip'), clock);
    expect((await fs.stat(path.join(pack, 'manifest.json'))).mtimeMs).toBe(before);
  });

  it('refuses a reply signed by an unknown certificate, and one altered after signing; neither changes any state', async () => {
    const run = await fx.run(career, '2026-Q2', 'R', signing);
    await sendSubmissions(sendDeps);
    const pass = await simulate(pki.strangerCert, pki.strangerKey);
    const [acrf, noti] = pass.replies;
    const stranger = await ingestReplies(ackDeps, 'R');
    const aside = stranger.filter((r) => r.result === 'set_aside');
    expect(aside.map((r) => r.name)).toEqual([acrf, noti]);
    expect(aside[0]!.reason).toMatch(/suspicious: its signature does not verify/);
    expect(await stateOf(run.runId)).toBe('sent');

    const run2 = await fx.run(career, '2026-Q1', 'R', signing);
    await sendSubmissions(sendDeps);
    const pass2 = await simulate(pki.receiverCert, pki.receiverKey);
    const altered = path.join(out(), pass2.replies[0]!);
    await fs.writeFile(altered, (await fs.readFile(altered, 'utf8')).replace('<ResultCode>1</ResultCode>', '<ResultCode>0</ResultCode>'));
    const outcomes = await ingestReplies(ackDeps, 'R');
    expect(outcomes.find((o) => o.name === pass2.replies[0])).toMatchObject({ result: 'set_aside', reason: expect.stringMatching(/suspicious/) });
    expect(await stateOf(run2.runId)).toBe('accepted'); // the genuine NOTI still counts; the forged ACRF− did not
  });
});
