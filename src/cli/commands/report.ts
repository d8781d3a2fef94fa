import type { Command } from 'commander';
import fs from 'node:fs/promises';
import { UsageError } from '../../errors/errors.js';
import { buildReport, type Report } from '../../reconcile/report.js';
import { reportToCsv } from '../../reconcile/reportCsv.js';
import { reportToHtml } from '../../reconcile/reportHtml.js';
import type { CliContext } from '../context.js';
import { escapeControls } from '../escapeControls.js';
import { environmentOption, findPipeline, periodFor } from '../resolve.js';

/** `maillon report <flow> --period <key>`: the reconciliation report of the latest run. */
export function registerReport(program: Command, ctx: () => CliContext): void {
  program
    .command('report')
    .argument('<flow>', 'flow id')
    .requiredOption('--period <key>', 'period key')
    .option('--env <R|T|S>', 'environment (default MAILLON_ENV)')
    .option('--json', 'print the report as JSON (same as --format json)')
    .option('--format <text|json|csv|html>', 'output format', 'text')
    .option('--out <file>', 'write the report to a file (0600) instead of stdout')
    .description('show the reconciliation report of the period: its latest successful run that was not cancelled, and what its receivers hold')
    .action(async (flow: string, opts: { period: string; env?: string; json?: boolean; format: string; out?: string }) => {
      const c = ctx();
      const pipeline = findPipeline(flow);
      periodFor(pipeline, opts.period);
      const env = environmentOption(c.config, opts.env);
      const report = await buildReport((await c.databases()).ledger, pipeline, opts.period, env, c.clock.now(), c.config.ackDelayHours);
      const format = opts.json ? 'json' : opts.format;
      const text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'csv' ? reportToCsv(report) : format === 'html' ? reportToHtml(report) : format === 'text' ? reportToText(report) : null;
      if (text === null) throw new UsageError(`--format takes text, json, csv or html, not "${format}".`);
      if (opts.out) {
        await fs.writeFile(opts.out, text, { mode: 0o600 });
        console.log(`report written to ${opts.out}`);
      } else process.stdout.write(text);
      if (report.checks.some((k) => !k.ok)) process.exitCode = 10;
    });
}

/** The report as text for a person (the default format; also what --out FILE writes with --format text). */
export function reportToText(r: Report): string {
  const lines: string[] = [];
  const out = (line: string): number => lines.push(line);
  out(`${r.flow} ${r.period} env ${r.environment} — run #${r.runId}, as of ${r.asOf}`);
  out(`  extracted ${r.counts.extracted}, emitted ${r.counts.emitted}, quarantined ${r.counts.quarantined}`);
  for (const [rule, n] of Object.entries(r.quarantineByRule)) out(`    ${String(n).padStart(8)}  ${rule}`);
  for (const f of r.files) out(`  ${f.name}  ${f.records} records  ${f.bytes} bytes  to ${f.receiver}  sha256 ${f.sha256}`);
  const d = r.delivery.records;
  out(`  records: ${d.accepted} accepted, ${d.acceptedWithAnomalies} with anomalies, ${d.rejected} rejected, ${d.pending} pending${d.cancelled ? `, ${d.cancelled} cancelled` : ''}`);
  for (const f of r.delivery.files) out(`  ${f.name}: ${f.state}${f.overdue ? ' (OVERDUE: no ACRF)' : ''}`);
  for (const i of r.delivery.recordIssues) out(`    ${i.state.padEnd(24)} ${i.sourceKey} ${i.codes}`);
  for (const i of r.replyIssues) out(`  reply ${escapeControls(i.name)}: ${i.state.replace('_', ' ')} (${escapeControls(i.reason)})`);
  out(`  receivers: ${r.receivers.phase.replace('_', ' ')} (${r.receivers.state})${r.receivers.action ? ` → ${r.receivers.action}` : ''}`);
  const days = r.daysRemaining >= 0 ? `${r.daysRemaining} days remaining` : `${-r.daysRemaining} days past`;
  out(`  deadline ${r.deadline} (${days})`);
  for (const [name, value] of Object.entries(r.facts ?? {})) out(`  ${name}: ${String(value)}`);
  for (const k of r.checks) out(`  [${k.ok ? 'ok' : 'FAILED'}] ${k.name}: ${k.detail}`);
  out('  versions:');
  for (const v of r.versions) {
    out(`    run #${v.runId} ${v.kind} by ${v.startedBy} at ${v.startedAt}${v.previousRunId === null ? '' : `, corrects #${v.previousRunId}`}${v.reason ? `, reason: ${escapeControls(v.reason)}` : ''}`);
    out(`      extracted ${v.counts.extracted}, emitted ${v.counts.emitted}, quarantined ${v.counts.quarantined}, unchanged ${v.counts.unchanged}, cancelled ${v.counts.cancelled}`);
    const s = v.records;
    out(`      records: ${s.accepted} accepted, ${s.acceptedWithAnomalies} with anomalies, ${s.rejected} rejected, ${s.pending} pending, ${s.cancelled} cancelled`);
    for (const f of v.files) out(`      ${f.name}  ${f.submissionKind} to ${f.receiver}  ${f.records} records  ${f.state}`);
  }
  for (const h of r.receivers.holds) out(`  ${h.receiver} holds: ${h.files.map((f) => `${f.name} (${f.kind}, ${f.state})`).join(', ') || 'nothing'}`);
  out(r.accountedFor ? '  every record is accounted for' : r.pendingRecords > 0 ? `  not every record is accounted for yet: ${r.pendingRecords} pending` : '  a check FAILED: not every record is accounted for');
  return `${lines.join('\n')}\n`;
}
