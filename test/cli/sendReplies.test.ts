import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { scratchDir } from '../helpers/runHarness.js';
import { endpointOf, requireTestSshd, type TestSshd } from '../helpers/sshd.js';

/** `maillon send`: its reply pass tells and exits as `maillon acks` does; its --flow and --period are checked. */
describe('maillon send, its filters and its reply pass (real sshd, real PostgreSQL)', () => {
  let sshd: TestSshd;
  let fx: FlowFixture;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let seq = 90_000;
  const putMalformed = async (): Promise<string> => {
    const n = ++seq;
    await fs.writeFile(path.join(sshd.root, 'OUTTEST', `FO.ACRF.999999.20250110.${n}.T`), '<ACRF><Form>');
    await fs.writeFile(path.join(sshd.root, 'OUTTEST', `GO.ACRF.999999.20250110.${n}.T.1`), '');
    return `FO.ACRF.999999.20250110.${n}.T`;
  };

  beforeAll(async () => {
    sshd = await requireTestSshd();
    fx = await createFlowFixture();
    await fx.run(contributionSlips, '2024-Q4');
    home = await scratchDir('send-replies');
    const file = path.join(home.dir, 'receivers.json');
    await fs.writeFile(file, JSON.stringify({ '*': endpointOf(sshd) }), { mode: 0o600 });
    env = { DATABASE_URL: fx.db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_RECEIVERS: file, MAILLON_LOG_LEVEL: 'info' };
  });
  afterAll(async () => {
    await sshd?.stop();
    await fx?.close();
    await home?.remove();
  });

  it('refuses an unknown flow (exit 4, naming the known ones) and a period key that is not one, or of the wrong kind (exit 2)', async () => {
    const unknown = await maillon(['send', '--flow', 'contribution-slipz', '--no-acks'], env);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('There is no flow "contribution-slipz". Known flows:');
    const wrongKind = await maillon(['send', '--flow', contributionSlips.id, '--period', '2024', '--no-acks'], env);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain(`The flow ${contributionSlips.id} runs per quarter; "2024" is a year.`);
    for (const args of [
      ['--flow', contributionSlips.id, '--period', '2024Q4'],
      ['--period', '2024Q4'],
    ]) {
      const bad = await maillon(['send', ...args, '--no-acks'], env);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toContain('maillon: --period: ');
    }
    expect((await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions WHERE state <> 'written'`)).rows[0].n).toBe(0);
  }, 180_000);

  it('delivers the flow and period named, then exits 12 for a reply set aside, named on stderr, --json stdout staying the delivery outcomes', async () => {
    const sent = await maillon(['send', '--flow', contributionSlips.id, '--period', '2024-Q4', '--json'], env);
    expect(sent.code, sent.stderr).toBe(0);
    expect((JSON.parse(sent.stdout) as { result: string }[]).map((o) => o.result)).toEqual(expect.arrayContaining(['sent']));

    const malformed = await putMalformed();
    const out = await maillon(['send', '--json'], env);
    expect(JSON.parse(out.stdout)).toEqual([]);
    expect(out.stderr).toContain(`maillon: the reply ${malformed} was set aside: `);
    expect(out.code).toBe(12);
    // Recorded: the next pass does not tell it again (status and the report still do).
    expect((await maillon(['acks'], env)).code).toBe(0);

    const again = await putMalformed();
    const text = await maillon(['send'], env);
    expect(text.stdout).toMatch(new RegExp(`^set_aside  ${again.replaceAll('.', '\\.')}: `, 'm'));
    expect(text.code).toBe(12);
  }, 180_000);

  it('exits 6 with the lost-connection sentence when the database goes away during the reply pass', async () => {
    // The server ends the session that records the reply, as a restart would.
    await fx.db.pool.query(`CREATE FUNCTION public.lost_connection() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$`);
    await fx.db.pool.query(`CREATE TRIGGER lost_connection BEFORE INSERT ON maillon.replies FOR EACH ROW EXECUTE FUNCTION public.lost_connection()`);
    try {
      await putMalformed();
      const out = await maillon(['send', '--json'], env);
      expect(out.stderr).toContain('maillon: the submissions above were handled, but the replies could not be read: The connection to PostgreSQL was lost during maillon send');
      expect(out.code).toBe(6);
    } finally {
      await fx.db.pool.query(`DROP TRIGGER lost_connection ON maillon.replies`);
    }
  });
});
