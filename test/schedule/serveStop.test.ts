import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { PIPELINES } from '../../pipelines/index.js';
import { setFlowPaused } from '../../src/ledger/flowPauses.js';
import { spawnMaillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';

/** A server that accepts the connection and never says a word: every SFTP attempt waits for its timeout. */
const startSilentServer = (): Promise<{ port: number; close: () => void }> =>
  new Promise((resolve) => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      }),
    );
  });

describe('maillon serve whose tick is slower than its interval', () => {
  let fx: FlowFixture;
  let home: { dir: string; remove: () => Promise<void> };
  let silent: { port: number; close: () => void };
  let env: Record<string, string>;

  const attempts = async (): Promise<number> => (await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.transfer_attempts`)).rows[0].n;

  beforeAll(async () => {
    silent = await startSilentServer();
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    // One written submission; every flow paused, so that serve runs nothing and only delivers it.
    await fx.run(career, '2026-Q3');
    for (const p of PIPELINES) await setFlowPaused(fx.db.pool, 'T', p.id, true, new Date('2026-10-10T02:30:00+02:00'), 'serve stop test');
    home = await scratchDir('serve-stop');
    const key = path.join(home.dir, 'client_ed25519');
    await fs.writeFile(key, ssh2.utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
    const receivers = path.join(home.dir, 'receivers.json');
    // Each attempt lasts 3 s (the handshake timeout), three times the tick; no retry within a send.
    const endpoint = { host: '127.0.0.1', port: silent.port, user: 'u', privateKeyPath: key, hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`, timeoutMs: 3000, retries: 0 };
    await fs.writeFile(receivers, JSON.stringify({ '*': endpoint }), { mode: 0o600 });
    env = {
      DATABASE_URL: fx.db.url,
      MAILLON_HOME: home.dir,
      MAILLON_SENDER: '012345',
      MAILLON_ENV: 'T',
      MAILLON_RECEIVERS: receivers,
      MAILLON_NOW: '2026-10-10T03:00:00+02:00',
      MAILLON_CATCHUP_DAYS: '1',
      MAILLON_TICK_SECONDS: '1',
      MAILLON_STATUS_PORT: '0',
      MAILLON_LOG_LEVEL: 'info',
    };
  });
  afterAll(async () => {
    silent?.close();
    await fx?.close();
    await home?.remove();
  });

  it('queues no tick behind a slow one, and SIGTERM waits for the tick in flight only', async () => {
    const serve = spawnMaillon(['serve'], env);
    const exited = new Promise<number | null>((resolve) => serve.on('exit', (c) => resolve(c)));
    let stderr = '';
    serve.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    // Three attempts: the ticks of the first two took three intervals each (counted, not timed).
    for (let i = 0; i < 1200 && (await attempts()) < 3; i++) await new Promise((r) => setTimeout(r, 50));
    const atStop = await attempts();
    expect(atStop).toBe(3);
    serve.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toContain('stopping: the job in progress finishes');
    // The third attempt was in flight: it ends, and nothing queued behind it runs (one more at most,
    // should the signal reach a very busy machine only after that tick's pause).
    expect((await attempts()) - atStop).toBeLessThanOrEqual(1);
  }, 120_000);
});
