import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { setFlowPaused } from '../../src/ledger/flowPauses.js';
import { createLogger } from '../../src/log/logger.js';
import { brusselsTime } from '../../src/status/brusselsTime.js';
import { recordTick } from '../../src/status/heartbeat.js';
import { withLinkBack } from '../../src/status/statusGrid.js';
import { statusToHtml } from '../../src/status/statusHtml.js';
import { statusSnapshot } from '../../src/status/statusSnapshot.js';
import { startStatusServer } from '../../src/status/statusServer.js';
import { renderedDom } from '../helpers/browser.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';

/**
 * Issue 22 point 3: the page an operator keeps open, checked in headless Chromium (jsdom without
 * it). The problems listed at the top of issue 22 are the named cases.
 */
describe('the status page', () => {
  let fx: FlowFixture;
  let profile: { dir: string; remove: () => Promise<void> };
  const now = new Date('2026-10-12T00:00:00Z');
  let emptyRun: number;

  beforeAll(async () => {
    fx = await createFlowFixture(path.join(ROOT, 'fixtures/career/input'), '2026-10-10T02:00:00+02:00');
    profile = await scratchDir('status-page');
    const run = await fx.run(career, '2026-Q3');
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'sent', go_started_at = $2, sent_at = $2 WHERE run_id = $1`, [run.runId, '2026-10-10T03:00:00Z']);
    // A quarter without data: the run emits no record.
    const empty = await fx.run(career, '1998-Q1');
    emptyRun = empty.runId;
    // As an ACRF and a NOTI accepting its (empty) file leave it.
    await fx.db.pool.query(`UPDATE maillon.submissions SET state = 'sent', go_started_at = $2, sent_at = $2 WHERE run_id = $1`, [empty.runId, '2026-10-10T03:00:00Z']);
    for (const state of ['received', 'accepted']) await fx.db.pool.query(`UPDATE maillon.submissions SET state = $2 WHERE run_id = $1`, [empty.runId, state]);
    await recordTick(fx.db.pool, 'T', new Date('2026-10-11T22:00:00Z'), new Date('2026-10-11T23:59:30Z'), 60);
    await setFlowPaused(fx.db.pool, 'T', 'career', true, new Date('2026-10-11T20:00:00Z'), 'receiver maintenance');
  });
  afterAll(async () => {
    await fx?.close();
    await profile?.remove();
  });

  /** The page as serve serves it (catch-up window of `catchUpDays`), rendered by the browser. */
  const page = async (catchUpDays: number): Promise<string> => {
    const snapshot = () => statusSnapshot(fx.db.pool, [career], 'T', now, 400, 48, catchUpDays);
    const server = await startStatusServer(
      {
        html: async () => statusToHtml(await snapshot()),
        json: snapshot,
        report: (flow, period) => Promise.resolve(withLinkBack(`<html><body><h1>report</h1></body></html>`, { flow, period })),
        health: () => Promise.resolve({ ok: true }),
        metrics: new Registry(),
        logger: createLogger('silent'),
      },
      0,
    );
    try {
      return await renderedDom(`http://127.0.0.1:${server.port}/`, path.join(profile.dir, String(catchUpDays)));
    } finally {
      await server.close();
    }
  };
  const cell = (dom: string, period: string): string => new RegExp(`<td id="career/${period}"[^>]*>.*?</td>`, 's').exec(dom)?.[0] ?? '';

  it('periods due before MAILLON_CATCHUP_DAYS are "outside the catch-up window", not to do (issue 22: 400 days shown as planned whatever it said)', async () => {
    const dom = await page(30);
    expect(cell(dom, '2025-Q3')).toContain('data-category="outside_window"');
    expect(cell(dom, '2025-Q3')).toContain('outside the catch-up window');
    const json = await statusSnapshot(fx.db.pool, [career], 'T', now, 400, 48, 30);
    expect(json.periods.find((p) => p.period === '2025-Q3')).toMatchObject({ state: 'outside_window', category: 'outside_window', outsideCatchUp: true });
    expect(json.periods.find((p) => p.period === '2025-Q3')!.action).toContain('maillon run career --period 2025-Q3 --env T');
    // With a window that covers it, the same period is to do.
    expect(cell(await page(400), '2025-Q3')).toContain('data-category="to_do"');
  });

  it('a period still to do after its deadline is flagged, not grey (issue 22)', async () => {
    const c = cell(await page(400), '2025-Q3');
    expect(c).toMatch(/class="cell to_do at-risk"/);
    expect(c).toMatch(/⚠ deadline passed \d+ d ago/);
  });

  it('a run that emitted no record shows "nothing to send", not accepted (issue 22)', async () => {
    const json = await statusSnapshot(fx.db.pool, [career], 'T', now, 400, 48, 400);
    expect(json.periods.find((p) => p.period === '1998-Q1')).toMatchObject({ state: 'nothing_to_send', category: 'nothing_to_send', runId: emptyRun });
    const dom = await page(400);
    expect(cell(dom, '1998-Q1')).toContain('data-category="nothing_to_send"');
    expect(dom).toMatch(/<tr data-flow="career" data-period="1998-Q1">.*?<td class="state nothing_to_send">nothing_to_send<\/td>/);
  });

  it('shows times in Europe/Brussels with their offset, and the next runs sorted (issue 22: UTC ISO strings, unsorted)', async () => {
    expect(brusselsTime('2026-10-10T00:00:00Z')).toBe('2026-10-10 02:00:00 +02:00');
    expect(brusselsTime('2026-12-10T01:00:00Z')).toBe('2026-12-10 02:00:00 +01:00');
    const dom = await page(400);
    expect(dom).toContain('as of <time datetime="2026-10-12T00:00:00.000Z">2026-10-12 02:00:00 +02:00</time>');
    const json = await statusSnapshot(fx.db.pool, [career], 'T', now, 400, 48, 400);
    const times = json.next.map((n) => n.at!);
    expect(times).toEqual([...times].sort());
  });

  it('shows the instances with their last tick, the queue, what runs now, the last runs with durations, the paused flow; reloads itself; links to reports, back, and to traces (issue 22)', async () => {
    const dom = await page(400);
    expect(dom).toMatch(/<tr data-instance="[^"]+" class="alive">.*?2026-10-12 01:59:30 \+02:00.*?ticking/s);
    expect(dom).toContain('jobs: created 0, retry 0, active 0');
    expect(dom).toContain('No run is running now.');
    expect(dom).toMatch(/<table id="recent">.*?<td class="state succeeded">succeeded<\/td>.*?<td class="duration">\d+ s<\/td>/s);
    expect(dom).toMatch(/<li data-flow="career"><b>career<\/b> paused since 2026-10-11 22:00:00 \+02:00 by \S+: receiver maintenance/);
    expect(dom).toContain('<span class="paused-tag">paused</span>');
    expect(dom).toMatch(/<meta http-equiv="refresh" content="30">/);
    expect(cell(dom, '2026-Q3')).toContain('<a href="/report/career/2026-Q3">report</a>');
    expect(dom).toMatch(/<form id="trace" action="\/trace" method="post">/);
    expect(withLinkBack('<html><body><h1>r</h1></body></html>', { flow: 'career', period: '2026-Q3' })).toContain('<a href="/#career/2026-Q3">');
  });
});
