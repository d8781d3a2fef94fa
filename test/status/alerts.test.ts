import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock/clock.js';
import { createMetrics } from '../../src/status/metrics.js';
import { PIPELINES } from '../../pipelines/index.js';
import { ROOT } from '../helpers/runHarness.js';
import { optionalTool } from '../helpers/systemTools.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const ALERTS = path.join(ROOT, 'docs/alerts.yml');
const RULE_TESTS = path.join(ROOT, 'test/status/alerts.test-rules.yml');
// Debian's prometheus package; required under MAILLON_TEST_STRICT (.ci/run installs it).
const promtool = optionalTool('promtool', 'prometheus');

/** Issue 22 point 4: docs/alerts.yml is a valid rule file about metrics maillon exports. */
describe('docs/alerts.yml', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it.skipIf(!promtool)('promtool check rules accepts it, and promtool test rules fires each alert on its series', () => {
    expect(execFileSync(promtool!, ['check', 'rules', ALERTS], { encoding: 'utf8' })).toContain('SUCCESS: 8 rules found');
    expect(execFileSync(promtool!, ['test', 'rules', RULE_TESTS], { encoding: 'utf8', cwd: path.dirname(RULE_TESTS) })).toContain('SUCCESS');
  });

  it('every alert has an expression, a severity and a summary, and reads only metrics /metrics exports (checked without promtool too)', async () => {
    const text = readFileSync(ALERTS, 'utf8');
    const blocks = text.split(/\n\s+- alert: /).slice(1);
    expect(blocks.map((b) => b.split('\n')[0])).toEqual([
      'MaillonRunFailed',
      'MaillonPeriodNeedsAttention',
      'MaillonPeriodGivenUp',
      'MaillonDeadlineClose',
      'MaillonPeriodOutsideWindow',
      'MaillonNoHeartbeat',
      'MaillonAckOverdue',
      'MaillonFlowPaused',
    ]);
    const registry = createMetrics(db.pool, { clock: fixedClock('2026-10-12T00:00:00Z'), pipelines: PIPELINES, environment: 'T', windowDays: 30, ackDelayHours: 48 });
    const exported = (await registry.metrics()).match(/^# TYPE (\S+)/gm)!.map((l) => l.slice(7));
    for (const b of blocks) {
      const expr = /\n\s+expr: (.+)/.exec(b)?.[1];
      expect(expr, b).toBeTruthy();
      expect(b).toMatch(/\n\s+severity: (info|warning|critical)\n/);
      expect(b).toMatch(/\n\s+summary: ".+"/);
      const names = expr!.match(/maillon_[a-z_]+/g) ?? [];
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) expect(exported, `${n} in ${expr}`).toContain(n);
      // Balanced brackets: the cheapest syntax check of PromQL that holds without promtool.
      for (const [open, close] of [
        ['(', ')'],
        ['{', '}'],
        ['[', ']'],
      ] as const)
        expect(expr!.split(open).length, expr).toBe(expr!.split(close).length);
    }
  });
});
