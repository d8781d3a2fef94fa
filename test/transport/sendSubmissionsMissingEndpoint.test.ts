import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { fixedClock } from '../../src/clock/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

describe('sending when the receivers file has no endpoint for one receiver', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;

  beforeAll(async () => {
    sshd = await requireTestSshd();
    // The contribution slips of 2024-Q4 go to several insurers: one submission each.
    fx = await createFlowFixture();
    await fx.run(contributionSlips, '2024-Q4');
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
  });

  it('fails that receiver’s submission with the reason and sends the others', async () => {
    const subs = (await fx.db.pool.query(`SELECT submission_id, receiver FROM maillon.submissions ORDER BY submission_id`)).rows as { submission_id: string; receiver: string }[];
    expect(new Set(subs.map((s) => s.receiver)).size).toBeGreaterThan(2);
    // The first submission's receiver is left out of the file (and there is no "*" default).
    const missing = subs[0]!.receiver;
    const file = path.join(path.dirname(fx.outbox), 'receivers.json');
    const server = JSON.parse(await fs.readFile(await writeReceiversFile(sshd, file), 'utf8'))['*'];
    await fs.writeFile(file, JSON.stringify(Object.fromEntries(subs.filter((s) => s.receiver !== missing).map((s) => [s.receiver, server]))), { mode: 0o600 });
    const outcomes = await sendSubmissions({
      ledger: fx.db.pool,
      clock: fixedClock('2025-01-10T03:00:00+01:00'),
      logger: createLogger('silent'),
      endpoints: loadEndpoints(file),
      passphrase: () => undefined,
      backoffMs: 10,
    });
    expect(outcomes.map((o) => [o.receiver, o.result])).toEqual(subs.map((s) => [s.receiver, s.receiver === missing ? 'failed' : 'sent']));
    expect(outcomes[0]!.error).toBe(`The receivers file ${file} has no endpoint for ${missing} (and no "*" default): add one for ${missing} there; its submissions are sent by the next send.`);
    // Nothing was tried for it: no transfer attempt, still written; every other one is on the server.
    const attempts = await fx.db.pool.query(`SELECT DISTINCT submission_id FROM maillon.transfer_attempts ORDER BY submission_id`);
    expect(attempts.rows.map((r) => r.submission_id)).toEqual(subs.filter((s) => s.receiver !== missing).map((s) => s.submission_id));
    expect((await fx.db.pool.query(`SELECT state FROM maillon.submissions WHERE submission_id = $1`, [subs[0]!.submission_id])).rows[0].state).toBe('written');
    expect((await fs.readdir(path.join(sshd.root, 'IN'))).filter((n) => n.startsWith('GO.'))).toHaveLength(subs.filter((s) => s.receiver !== missing).length);
  });
});
