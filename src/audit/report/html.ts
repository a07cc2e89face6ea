/**
 * The audit's HTML index: one summary row per host linking to its own page (the single-host
 * HTML report), waivers about to expire, and where each part ran from. Self-contained, no script.
 */
import { escapeHtml } from '../../util/untrusted-text.js';
import type { AuditSincePrevious } from '../drift.js';
import { renderDriftHtmlSection } from '../../report/drift/html.js';
import type { AuditResult } from '../model.js';
import { buildAuditRows, describeAuditSincePrevious, formatAuditSummary } from './view.js';

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;max-width:1200px;margin:0 auto;padding:24px;color:#1d1d1f}
table{border-collapse:collapse;width:100%;margin:6px 0 14px}th,td{border:1px solid #d9dce0;padding:4px 8px;text-align:left}th{background:#f5f6f7}
td.n{text-align:right}tr.fail td.v{color:#c62828;font-weight:600}tr.ok td.v{color:#2e7d32}tr.skip td.v{color:#5f6368}`;

export function renderAuditIndexHtml(audit: AuditResult, sincePrevious?: AuditSincePrevious): string {
  const h = escapeHtml;
  const rows = buildAuditRows(audit);
  const out = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'">`,
    `<title>portmatrix audit ${h(audit.startedAt)}</title><style>${STYLE}</style></head><body>`,
    `<h1>Port conformance audit</h1>`,
    `<p><b>${h(formatAuditSummary(audit, rows))}</b></p>`,
    `<p>Inventory ${h(audit.inventory.file)} · ${h(audit.startedAt)} → ${h(audit.finishedAt)} · ${h(audit.tool.name)} ${h(audit.tool.version)}</p>`,
    '<table><tr><th>Host</th><th>Site</th><th>Matrix</th><th>Verdict</th><th>Errors</th><th>Warnings</th><th>Notices</th><th>Accepted</th><th>Scanned from</th></tr>',
  ];
  for (const row of rows) {
    const rowClass = row.host.exitCode === 0 ? 'ok' : row.host.exitCode === 1 ? 'fail' : 'skip';
    out.push(
      `<tr class="${rowClass}"><td><a href="${h(row.page)}">${h(row.label)}</a></td><td>${h(row.host.site ?? '')}</td><td>${h(row.matrix)}</td><td class="v">${h(row.verdict)}</td>` +
        [row.counts.error, row.counts.warning, row.counts.notice, row.counts.accepted].map((count) => `<td class="n">${count}</td>`).join('') +
        `<td>${h(row.host.result.vantage.hostname)} (${h(row.host.result.vantage.sourceAddresses.join(', '))})</td></tr>`,
    );
  }
  out.push('</table>');
  if (sincePrevious) {
    const { title, notes } = describeAuditSincePrevious(sincePrevious);
    out.push(`<h2>${h(title)}</h2>`, ...notes.map((note) => `<p>${h(note)}</p>`), renderDriftHtmlSection(sincePrevious.drift, 'h3'));
  }
  if (audit.expiringWaivers.length > 0) {
    out.push(`<h2>Waivers expiring within ${audit.parameters.warnWaiverDays} days</h2>`, '<table><tr><th>Host</th><th>Port</th><th>Ticket</th><th>Reason</th><th>Expires</th><th>Days left</th></tr>');
    for (const waiver of audit.expiringWaivers) {
      out.push(`<tr>${[waiver.address, `${waiver.transport}/${waiver.port}`, waiver.ticket ?? '', waiver.reason, waiver.expires, String(waiver.daysLeft)].map((cell) => `<td>${h(cell)}</td>`).join('')}</tr>`);
    }
    out.push('</table>');
  }
  out.push('</body></html>');
  return `${out.join('\n')}\n`;
}
