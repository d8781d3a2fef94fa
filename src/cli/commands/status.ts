import type { Command } from 'commander';
import { PIPELINES } from '../../../pipelines/index.js';
import { brusselsTime } from '../../status/brusselsTime.js';
import { CATEGORY_LABEL } from '../../status/statusGrid.js';
import { statusSnapshot } from '../../status/statusSnapshot.js';
import { escapeControls } from '../../system/escapeControls.js';
import type { CliContext } from '../context.js';
import { positiveInt } from '../numberOption.js';
import { environmentOption } from '../resolve.js';

/** `maillon status`: flows × recent periods with their state, deadlines and next runs. */
export function registerStatus(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .description('show every flow for its recent periods: to do, in progress, delivered, needs attention or given up, with what to do, deadlines and next runs')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .option('--days <n>', 'how far back, days', positiveInt('--days', 3650), 400)
    .option('--json', 'print as JSON')
    .action(async (opts: { env?: string; days: number; json?: boolean }) => {
      const c = ctx();
      const env = environmentOption(c.config, opts.env);
      // The same catch-up window as serve: a period to do due before it is outside_window.
      const dbs = await c.databases();
      const s = await statusSnapshot(dbs.ledger, PIPELINES, env, c.clock.now(), opts.days, c.config.ackDelayHours, c.config.catchUpDays, dbs.dossier);
      if (opts.json) {
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      for (const p of s.periods) {
        const state = `${p.state}${p.overdue ? ' (overdue)' : ''}`;
        const risk = p.deadlineAtRisk ? (p.daysRemaining < 0 ? '  ⚠ deadline passed' : '  ⚠ deadline at risk') : '';
        console.log(
          `${p.flow.padEnd(24)} ${p.period.padEnd(8)} ${p.phase.replace('_', ' ').padEnd(15)} ${state.padEnd(26)} quarantined ${String(p.quarantined ?? '-').padStart(6)}  deadline ${p.deadline} (${p.daysRemaining} d)${risk}  [${CATEGORY_LABEL[p.category]}]`,
        );
        if (p.action) console.log(`    → ${escapeControls(p.action)}`);
      }
      for (const r of s.running) console.log(`running #${r.runId} ${r.flow} ${r.period} since ${brusselsTime(r.startedAt)} (${r.elapsedSeconds} s)`);
      for (const i of s.instances) console.log(`instance ${i.instance.padEnd(30)} last tick ${brusselsTime(i.lastTickAt)}${i.alive ? '' : '  (no recent tick)'}`);
      for (const n of s.next) console.log(`next ${n.flow.padEnd(24)} ${n.at ? brusselsTime(n.at) : '-'}`);
      for (const p of s.paused) console.log(`paused ${p.flow.padEnd(22)} since ${p.at} by ${escapeControls(p.by)}: ${escapeControls(p.reason)} (maillon resume ${p.flow} --env ${env})`);
      for (const r of s.unsettledReplies) {
        console.log(`reply ${escapeControls(r.name)} ${r.issue.replace('_', ' ')} ${brusselsTime(r.at)} (${escapeControls(r.server)}): ${escapeControls(r.reason)}`);
        if (r.action) console.log(`    → to read it again: ${escapeControls(r.action)}`);
      }
    });
}
