import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { fixedClock } from '../../src/clock/clock.js';
import { SCHEMAS_DIR } from '../../src/cli/context.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { simulateReceiver } from '../../src/simulate/simulateReceiver.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd, writeReceiversFile } from '../helpers/sshd.js';

/** The receivers file lacks one receiver: `send` and `serve` deliver to the others and read their replies. */
describe('maillon send and serve with a receiver missing from the receivers file', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let subs: { submission_id: string; receiver: string }[];
  let missing: string;
  let file: string;

  const stateOf = async (receiver: string): Promise<string[]> =>
    (await fx.db.pool.query(`SELECT state FROM maillon.submissions WHERE flow = 'contribution-slips' AND receiver = $1`, [receiver])).rows.map((r) => r.state as string);

  beforeAll(async () => {
    sshd = await requireTestSshd();
    // The contribution slips of 2024-Q4 go to several insurers: one submission each.
    fx = await createFlowFixture();
    await fx.run(contributionSlips, '2024-Q4');
    home = await scratchDir('missing-endpoint');
    subs = (await fx.db.pool.query(`SELECT submission_id, receiver FROM maillon.submissions ORDER BY submission_id`)).rows;
    missing = subs[0]!.receiver;
    file = path.join(home.dir, 'receivers.json');
    const server = JSON.parse(await fs.readFile(await writeReceiversFile(sshd, file), 'utf8'))['*'];
    await fs.writeFile(file, JSON.stringify(Object.fromEntries(subs.filter((s) => s.receiver !== missing).map((s) => [s.receiver, server]))), { mode: 0o600 });
    env = { DATABASE_URL: fx.db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_RECEIVERS: file, MAILLON_LOG_LEVEL: 'info' };
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
    await home?.remove();
  });

  it('send delivers the others, names the missing receiver and the file, reads the replies, and exits 2 (configuration)', async () => {
    const out = await maillon(['send'], env);
    expect(out.code).toBe(2);
    const reason = `The receivers file ${file} has no endpoint for ${missing} (and no "*" default): add one for ${missing} there; its submissions are sent by the next send.`;
    expect(out.stdout).toContain(`to ${missing}: ${reason}`);
    expect(out.stdout.match(/^sent /gm)).toHaveLength(subs.filter((s) => s.receiver !== missing).length);
    expect(out.stdout).toMatch(/^no new replies$/m);
    expect(await stateOf(missing)).toEqual(['written']);
    const json = await maillon(['send', '--json', '--no-acks'], env);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ receiver: missing, result: 'failed', error: reason, cause: 'configuration' })]);
  });

  it('serve sends what it can, logs the missing receiver, and still reads the replies of the others', async () => {
    await simulateReceiver({ root: sshd.root, schemasDir: SCHEMAS_DIR, validator: createXsdValidator(undefined), clock: fixedClock('2025-01-10T05:00:00+01:00') });
    const out = await maillon(['serve', '--once'], { ...env, MAILLON_NOW: '2025-01-10T06:00:00+01:00', MAILLON_CATCHUP_DAYS: '1' });
    expect(out.stderr).not.toContain('maillon:');
    expect(out.code).toBe(0);
    expect(out.stderr).toContain(`has no endpoint for ${missing}`);
    expect(await stateOf(missing)).toEqual(['written']);
    // Their ACRF and NOTI were read: each of the others is accepted, none is left at sent.
    for (const s of subs.filter((x) => x.receiver !== missing)) expect(await stateOf(s.receiver), s.receiver).toEqual([expect.stringMatching(/^accepted/)]);
  });

  it('acks names every receiver sent to that the receivers file lost, and reads no folder until they are back', async () => {
    const sent = subs
      .filter((s) => s.receiver !== missing)
      .slice(0, 2)
      .map((s) => s.receiver);
    const lost = path.join(home.dir, 'receivers-lost.json');
    const kept = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    for (const r of sent) delete kept[r];
    await fs.writeFile(lost, JSON.stringify(kept), { mode: 0o600 });
    const out = await maillon(['acks'], { ...env, MAILLON_RECEIVERS: lost });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`no endpoint (and no "*" default) for ${sent.join(', ')}, sent to in environment T: no reply was read`);
  });
});
