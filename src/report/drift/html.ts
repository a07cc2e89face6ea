/**
 * The drift as one self-contained HTML page (inline CSS, no script, a CSP that forbids
 * scripts), for a change board. Every text goes through escapeHtml.
 */
import type { Drift } from '../../conformance/drift.js';
import { escapeHtml } from '../../util/untrusted-text.js';
import { describeHost } from '../view.js';
import { changedHosts, formatHostDrift, describeFinding, describeServiceChange, findingChangeRows, formatDriftSummary, formatRun } from './view.js';

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:24px;color:#1d1d1f}
table{border-collapse:collapse;width:100%;margin:6px 0 14px}th,td{border:1px solid #d9dce0;padding:4px 8px;text-align:left}th{background:#f5f6f7}
.appeared{color:#c62828}.resolved{color:#2e7d32}.summary{font-weight:600}`;

export function renderDriftHtml(drift: Drift): string {
  const title = `Drift: ${formatRun(drift.before)} → ${formatRun(drift.after)}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'">`,
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    renderDriftHtmlSection(drift, 'h2'),
    '</body></html>',
    '',
  ].join('\n');
}

/** The drift's summary and per-host tables, for a page of its own or a section of another report ("since the previous run"). */
export function renderDriftHtmlSection(drift: Drift, hostHeading: 'h2' | 'h3'): string {
  const h = escapeHtml;
  const cells = (values: string[], tag = 'td'): string => `<tr>${values.map((value) => `<${tag}>${h(value)}</${tag}>`).join('')}</tr>`;
  const out = [`<p class="summary">${h(formatDriftSummary(drift))}</p>`];
  for (const host of changedHosts(drift)) {
    out.push(`<${hostHeading}>${h(describeHost(host))} (${h(formatHostDrift(host))})</${hostHeading}>`);
    if (host.ports.length > 0) {
      out.push('<table>', cells(['Port', 'Before', 'After'], 'th'));
      for (const change of host.ports) out.push(cells([`${change.transport}/${change.port}`, change.before ?? 'not scanned', change.after ?? 'not scanned']));
      out.push('</table>');
    }
    const rows = findingChangeRows(host);
    if (rows.length > 0) {
      out.push('<table>', cells(['Finding', 'Severity', 'Kind', 'Port', 'Detail'], 'th'));
      for (const { change, finding, detail } of rows) {
        const line = describeFinding(finding);
        out.push(`<tr class="${change}">${[change, line.severity, line.kind, line.port, detail].map((value) => `<td>${h(value)}</td>`).join('')}</tr>`);
      }
      out.push('</table>');
    }
    if (host.services.length > 0) {
      out.push('<table>', cells(['Service', 'Port', 'What changed'], 'th'));
      for (const change of host.services) out.push(cells([change.after.check, `tcp/${change.port}`, describeServiceChange(change)]));
      out.push('</table>');
    }
  }
  return out.join('\n');
}
