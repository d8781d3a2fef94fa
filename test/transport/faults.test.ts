import fs from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { type EmbeddedSftpServer, type SftpFaults, startEmbeddedSftpServer } from '../../src/transport/embeddedSftpServer.js';
import { hostKeyFingerprint } from '../../src/transport/hostKey.js';
import { generateEd25519KeyPair } from '../../src/transport/keyPair.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';

/** Fault injection with an in-process ssh2 server that misbehaves on purpose (a real server cannot be made to). */
describe('delivery through a misbehaving SFTP server', () => {
  let fx: FlowFixture;
  let dir: string;
  let server: EmbeddedSftpServer | null = null;
  const keys = { host: generateEd25519KeyPair(), client: generateEd25519KeyPair() };

  async function serve(faults: SftpFaults, hostKey = keys.host.private): Promise<{ file: string; faults: SftpFaults }> {
    server = await startEmbeddedSftpServer({ root: path.join(dir, 'partner'), hostKey, authorizedKey: keys.client.public, faults });
    // The pinned key is always our usual host key; a test may make the server present another.
    const pinned = hostKeyFingerprint((ssh2.utils.parseKey(keys.host.public) as ssh2.ParsedKey).getPublicSSH());
    const file = path.join(dir, 'receivers.json');
    await fs.writeFile(
      file,
      JSON.stringify({
        '*': { host: '127.0.0.1', port: server.port, user: 'fund', privateKeyPath: path.join(dir, 'client_key'), hostKeyFingerprint: pinned, inDir: '/IN', timeoutMs: 700, retries: 2 },
      }),
    );
    return { file, faults };
  }

  const send = (file: string) =>
    sendSubmissions({ ledger: fx.db.pool, clock: fixedClock('2026-10-10T03:00:00+02:00'), logger: createLogger('silent'), endpoints: loadEndpoints(file), passphrase: () => undefined, backoffMs: 10 });
  const inbox = async (): Promise<string[]> => (await fs.readdir(path.join(dir, 'partner', 'IN'))).sort();
  const attempts = async (runId: number): Promise<string[]> =>
    (await fx.db.pool.query(`SELECT a.outcome FROM maillon.transfer_attempts a JOIN maillon.submissions s USING (submission_id) WHERE s.run_id = $1 ORDER BY attempt_id`, [runId])).rows.map(
      (r) => r.outcome,
    );

  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    dir = path.dirname(fx.outbox);
    await fs.writeFile(path.join(dir, 'client_key'), keys.client.private, { mode: 0o600 });
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    await fs.rm(path.join(dir, 'partner'), { recursive: true, force: true });
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'cancelled' WHERE state = 'written'`);
  });
  afterAll(async () => fx.close());

  beforeEach(async () => {
    await fs.mkdir(path.join(dir, 'partner', 'IN'), { recursive: true });
  });

  it('connection dropped mid-upload: retried, one complete file, one GO, no partial', async () => {
    const { file, faults } = await serve({ dropAfterBytes: 1 });
    const run = await fx.run(career, '2026-Q3');
    const [out] = await send(file);
    expect(out!.result).toBe('sent');
    expect(faults.dropAfterBytes).toBeUndefined(); // the fault did happen
    expect(await inbox()).toEqual([run.files[0]!.name, `GO${run.files[0]!.name.slice(2, -2)}`]);
    expect(await attempts(run.runId)).toEqual(['failed', 'sent']);
  });

  it('stalled server: the operation times out and the retry completes', async () => {
    const { file, faults } = await serve({ stallWrites: true });
    const run = await fx.run(career, '2026-Q2');
    const [out] = await send(file);
    expect(out!.result).toBe('sent');
    expect(faults.stallWrites).toBeUndefined();
    expect((await inbox()).filter((n) => n.includes('.part'))).toEqual([]);
    expect(await attempts(run.runId)).toEqual(['failed', 'sent']);
  });

  it('rename refused: retried from a clean temporary file, nothing duplicated', async () => {
    const { file } = await serve({ failRename: true });
    const run = await fx.run(career, '2026-Q1');
    const [out] = await send(file);
    expect(out!.result).toBe('sent');
    expect(await inbox()).toEqual([run.files[0]!.name, `GO${run.files[0]!.name.slice(2, -2)}`]);
  });

  it('host key changed: refused with the two fingerprints, not retried, nothing sent', async () => {
    const other = generateEd25519KeyPair();
    const { file } = await serve({}, other.private);
    const run = await fx.run(career, '2025-Q4');
    const [out] = await send(file);
    expect(out!.result).toBe('failed');
    expect(out!.error).toMatch(/presented host key SHA256:\S+, not the pinned SHA256:/);
    expect(await inbox()).toEqual([]);
    expect(await attempts(run.runId)).toEqual(['failed']);
  });

  it('our key refused: a clear error, not retried', async () => {
    const { file } = await serve({ refuseAuth: true });
    const run = await fx.run(career, '2025-Q3');
    const [out] = await send(file);
    expect(out!.result).toBe('failed');
    expect(out!.error).toMatch(/refused our key/);
    expect(await attempts(run.runId)).toEqual(['failed']);
  });
});
