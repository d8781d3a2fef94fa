import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { fixedClock } from '../../src/clock/clock.js';
import { freePort } from '../../src/db/embeddedPostgres.js';
import { TransportError } from '../../src/errors/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { type SendDeps, sendSubmissions } from '../../src/transport/sendSubmissions.js';
import type { UploadStep } from '../../src/transport/uploadSubmission.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

/** One send's submissions to a server: the contribution slips of 2024-Q4 go to several insurers, one submission each. */
describe('sending to a server that cannot be reached', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let ids: number[];

  const deps = async (overrides: Record<string, unknown>): Promise<SendDeps> => ({
    ledger: fx.db.pool,
    clock: fixedClock('2025-01-10T03:00:00+01:00'),
    logger: createLogger('silent'),
    endpoints: loadEndpoints(await writeReceiversFile(sshd, path.join(path.dirname(fx.outbox), 'receivers.json'), { retries: 2, ...overrides })),
    passphrase: () => undefined,
    backoffMs: 10,
  });
  const attemptsBySubmission = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await fx.db.pool.query(`SELECT submission_id, count(*)::int AS n FROM maillon.transfer_attempts GROUP BY 1`)).rows.map((r) => [r.submission_id, r.n]));

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture();
    await fx.run(contributionSlips, '2024-Q4');
    ids = (await fx.db.pool.query(`SELECT submission_id FROM maillon.submissions ORDER BY submission_id`)).rows.map((r) => Number(r.submission_id));
    expect(ids.length).toBeGreaterThanOrEqual(3);
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('spends the retries of the first submission only: the others fail at once, naming the server unreachable, not tried', async () => {
    // Nothing listens there: every connection is refused.
    const port = await freePort();
    const outcomes = await sendSubmissions(await deps({ port }));
    const server = `${sshd.user}@${sshd.host}:${port}`;
    expect(outcomes.map((o) => o.result)).toEqual(ids.map(() => 'failed'));
    expect(outcomes[0]!.error).toContain(`Cannot connect to the SFTP server ${server}`);
    for (const o of outcomes.slice(1)) {
      expect(o.reason).toBe(`the SFTP server ${server} is unreachable: not tried`);
      expect(o.error).toMatch(new RegExp(`^Not tried: the SFTP server ${server} could not be reached for submission #${ids[0]} in this send \\(3 attempt\\(s\\); the last: Cannot connect`));
      expect(o.error).toMatch(/The next send tries again\.$/);
    }
    // 1 + 2 retries for the first, none for the others (each would have cost 3).
    expect(await attemptsBySubmission()).toEqual({ [ids[0]!]: 3 });
    await fx.db.pool.query('DELETE FROM maillon.transfer_attempts');
  });

  it('goes on with the others when a submission used its retries on a failure after connecting', async () => {
    // The first three uploads fail as a dropped transfer does: the first submission's three attempts.
    let uploads = 0;
    const onStep = (step: UploadStep): void => {
      if (step === 'before-upload' && ++uploads <= 3) throw new TransportError('the upload broke off (test)', true);
    };
    const outcomes = await sendSubmissions({ ...(await deps({})), onStep });
    expect(outcomes.map((o) => o.result)).toEqual(ids.map((_, i) => (i === 0 ? 'failed' : 'sent')));
    expect(outcomes[0]!.error).toBe('the upload broke off (test)');
    expect(await attemptsBySubmission()).toEqual(Object.fromEntries(ids.map((id, i) => [id, i === 0 ? 3 : 1])));
    expect((await fs.readdir(path.join(sshd.root, 'IN'))).filter((n) => n.startsWith('GO.'))).toHaveLength(ids.length - 1);
  });
});
