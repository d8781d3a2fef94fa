import { escapeHtml as esc } from '../render/xml.js';
import type { Category, PeriodStatus, StatusSnapshot } from './statusSnapshot.js';

/** The label of each category on the page. */
export const CATEGORY_LABEL: Record<Category, string> = {
  to_do: 'to do',
  running: 'running',
  in_progress: 'in progress',
  failed: 'failed',
  given_up: 'given up',
  delivered: 'delivered',
  needs_attention: 'needs attention',
  nothing_to_send: 'nothing to send',
  outside_window: 'outside the catch-up window',
  closed: 'closed (no file accepted any more)',
};

/** The link to a period's reconciliation report (the report links back to its cell: `/#flow/period`). */
export function reportHref(p: { flow: string; period: string }): string {
  return `/report/${encodeURIComponent(p.flow)}/${encodeURIComponent(p.period)}`;
}

/** The id of a period's cell, the target of the report's link back. */
export function cellId(p: { flow: string; period: string }): string {
  return `${p.flow}/${p.period}`;
}

/** Flows × periods: one row per flow, its periods newest first, each cell coloured by category, deadlines at risk flagged. */
export function gridHtml(s: StatusSnapshot): string {
  const flows = [...new Set(s.periods.map((p) => p.flow))].sort();
  const paused = new Set(s.paused.map((p) => p.flow));
  const rows = flows.map((flow) => {
    const cells = s.periods
      .filter((p) => p.flow === flow)
      .sort((a, b) => (a.period < b.period ? 1 : -1))
      .map(cellHtml)
      .join('');
    return `<tr data-flow="${esc(flow)}"><th scope="row">${esc(flow)}${paused.has(flow) ? ' <span class="paused-tag">paused</span>' : ''}</th>${cells}</tr>`;
  });
  const legend = (Object.keys(CATEGORY_LABEL) as Category[]).map((c) => `<span class="cat ${c}">${esc(CATEGORY_LABEL[c])}</span>`).join(' ');
  return `<h2>Flows × periods</h2><p class="legend">${legend} <span class="risk">⚠ deadline at risk (≤ ${s.deadlineRiskDays} days, or past)</span></p>
<table id="grid"><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function cellHtml(p: PeriodStatus): string {
  const risk = p.deadlineAtRisk ? (p.daysRemaining < 0 ? `⚠ deadline passed ${-p.daysRemaining} d ago` : `⚠ deadline in ${p.daysRemaining} d`) : `deadline ${p.deadline}`;
  const title = [CATEGORY_LABEL[p.category], p.state, p.action ?? ''].filter(Boolean).join(' — ');
  return (
    `<td id="${esc(cellId(p))}" class="cell ${p.category}${p.deadlineAtRisk ? ' at-risk' : ''}" data-period="${esc(p.period)}" data-category="${p.category}" title="${esc(title)}">` +
    `<b>${esc(p.period)}</b><br><span class="cat-label">${esc(CATEGORY_LABEL[p.category])}</span><br><small class="deadline">${esc(risk)}</small>` +
    `${p.runId ? `<br><a href="${reportHref(p)}">report</a>` : ''}</td>`
  );
}

/** A report served by the status page, with a link back to its period's cell in the grid. */
export function withLinkBack(reportHtml: string, p: { flow: string; period: string }): string {
  const link = `<p class="back"><a href="/#${esc(cellId(p))}">← status page: ${esc(p.flow)} ${esc(p.period)}</a></p>`;
  return /<body[^>]*>/.test(reportHtml) ? reportHtml.replace(/<body[^>]*>/, (b) => `${b}\n${link}`) : `${link}\n${reportHtml}`;
}
