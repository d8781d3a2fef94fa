import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { fixedClock } from '../../src/clock/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { type SendDeps, sendSubmissions } from '../../src/transport/sendSubmissions.js';
import type { UploadStep } from '../../src/transport/uploadSubmission.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

// src/transport/sessionPool.ts: one SFTP session per server for a whole send.
describe('the SFTP sessions of one send', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let endpointsFile: string;

  const deps = (onStep?: (step: UploadStep) => void | Promise<void>): SendDeps => ({
    ledger: fx.db.pool,
    clock: fixedClock('2026-10-10T03:00:00+02:00'),
    logger: createLogger('silent'),
    endpoints: loadEndpoints(endpointsFile),
    passphrase: () => undefined,
    backoffMs: 10,
    ...(onStep ? { onStep } : {}),
  });
  const attempts = async (): Promise<string[]> => (await fx.db.pool.query<{ outcome: string }>('SELECT outcome FROM maillon.transfer_attempts ORDER BY attempt_id')).rows.map((r) => r.outcome);

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    endpointsFile = await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers.json'));
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('delivers every submission for one server over one login', async () => {
    await fx.run(career, '2026-Q3');
    await fx.run(career, '2026-Q2');
    await fx.run(career, '2026-Q1');
    const before = sshd.connections();
    const sent = await sendSubmissions(deps());
    expect(sent.map((s) => s.result)).toEqual(['sent', 'sent', 'sent']);
    await expect.poll(() => sshd.connections()).toBe(before + 1);
    expect(await attempts()).toEqual(['sent', 'sent', 'sent']);
  });

  it('replaces a session the server closed between two submissions, without a failed attempt', async () => {
    await fx.run(career, '2025-Q4');
    await fx.run(career, '2025-Q3');
    const before = sshd.connections();
    const known = (await attempts()).length;
    let dropped = false;
    // After the first submission's GO, the server ends the connection (an idle timeout would do it
    // between two submissions); the client sees it close before the next one starts.
    const dropAfterFirst = async (step: UploadStep): Promise<void> => {
      if (step !== 'after-go' || dropped) return;
      dropped = true;
      sshd.dropConnections();
      await new Promise((r) => setTimeout(r, 200));
    };
    const sent = await sendSubmissions(deps(dropAfterFirst));
    expect(sent.map((s) => s.result)).toEqual(['sent', 'sent']);
    await expect.poll(() => sshd.connections()).toBe(before + 2);
    expect((await attempts()).slice(known)).toEqual(['sent', 'sent']);
  });
});
