/**
 * A single self-contained HTML file: inline CSS, no script, no external assets, and a
 * Content-Security-Policy that forbids scripts outright, so a hostile banner can do nothing
 * even if escaping were ever wrong. The port map shows, per host and component, every
 * expected port as a tile: the outline says what is documented, the fill what was seen.
 */
import type { Finding, Severity } from '../conformance/model.js';
import type { ScanResult } from '../result/model.js';
import { renderDriftHtmlSection } from './drift/html.js';
import { describeSincePrevious } from './drift/view.js';
import { escapeHtml } from '../util/untrusted-text.js';
import type { PortMapEntry } from './view.js';
import {
  buildReportView,
  countStates,
  describeHost,
  formatHostStatus,
  formatDocumented,
  formatFolded,
  formatObserved,
  formatPort,
  formatServiceCells,
  formatRef,
  formatVerdict,
  formatWaiver,
  KIND_TITLES,
} from './view.js';

const STYLE = `
:root{--ok:#2e7d32;--error:#c62828;--warning:#ef8f00;--notice:#1565c0;--off:#9e9e9e;--ink:#1d1d1f;--muted:#5f6368;--line:#d9dce0}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0 auto;padding:24px;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
.verdict{display:inline-block;padding:6px 12px;border-radius:6px;font-weight:600;color:#fff;background:var(--ok)}
.verdict.fail{background:var(--error)}.verdict.none{background:var(--muted)}
.counts{display:flex;gap:10px;margin:12px 0;flex-wrap:wrap}
.count{border:1px solid var(--line);border-radius:6px;padding:6px 12px;min-width:92px}
.count b{display:block;font-size:20px}
.count.error b{color:var(--error)}.count.warning b{color:var(--warning)}.count.notice b{color:var(--notice)}.count.ok b{color:var(--ok)}
.meta{color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f6f7}
td.sev{font-weight:600}td.sev.error{color:var(--error)}td.sev.warning{color:var(--warning)}td.sev.notice{color:var(--notice)}td.sev.off{color:var(--off)}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
td.mono:first-child,td.mono{word-break:normal;white-space:nowrap}
td.banner,span.banner{word-break:break-all;white-space:pre-wrap}
.map{display:grid;grid-template-columns:repeat(auto-fill,minmax(132px,1fr));gap:8px}
.tile{border:3px solid var(--ink);border-radius:8px;padding:6px 8px;background:#fff}
.tile .port{font-weight:700;font-family:ui-monospace,Menlo,Consolas,monospace}
.tile .proto{color:var(--muted);font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.tile .states{font-size:12px}
.tile.doc-dark{border-style:dashed;border-color:var(--muted)}
.tile.doc-either{border-style:dotted}
.tile.ok{background:#e8f5e9}.tile.error{background:#ffebee}.tile.warning{background:#fff3e0}.tile.notice{background:#e3f2fd}
.tile.accepted{background:#f1f1f1}.tile.unscanned{background:repeating-linear-gradient(45deg,#fafafa,#fafafa 6px,#eee 6px,#eee 12px)}
.tile .kind{font-size:12px;font-weight:600}
.tile.error .kind{color:var(--error)}.tile.warning .kind{color:var(--warning)}.tile.notice .kind{color:var(--notice)}.tile.ok .kind{color:var(--ok)}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin:6px 0 10px}
.legend span{display:inline-flex;align-items:center;gap:5px}
.swatch{display:inline-block;width:18px;height:14px;border:2px solid var(--ink);border-radius:3px}
.banner{white-space:pre-wrap}
`;

export function renderHtml(result: ScanResult): string {
  const view = buildReportView(result);
  const conformance = result.conformance;
  const h = escapeHtml;
  const out: string[] = [];
  const title = conformance ? `Port conformance: ${conformance.matrix.product} ${conformance.matrix.version}` : 'Port scan';
  const targets = result.hosts.map(describeHost).join(', ');

  out.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${h(`${title} · ${targets}`)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${h(title)}</h1>`,
    `<p class="meta">${h(targets)} · ${h(result.startedAt)} · ${h(result.tool.name)} ${h(result.tool.version)}${conformance ? ` · ${h(conformance.matrix.document)}` : ''}</p>`,
  );
  const verdictClass = view.exitCode === 3 ? 'fail' : view.exitCode === undefined || view.failOn === 'never' ? 'none' : view.exitCode === 1 ? 'fail' : 'ok';
  out.push(`<p><span class="verdict ${verdictClass}" id="verdict">${h(formatVerdict(view))}</span></p>`);
  if (conformance?.conditions) out.push(`<p class="meta">Conditions declared to hold: ${h(conformance.conditions.join(', '))}</p>`);
  for (const note of conformance?.notes ?? []) out.push(`<p class="meta">Document note (${h(note.kind)}): ${h(note.text)}</p>`);
  if (!result.complete) out.push(`<p><strong>Incomplete scan</strong>${result.incompleteReason ? `: ${h(result.incompleteReason)}` : ''}. Ports not reached are not reported.</p>`);
  if (view.hostFindings.length > 0) {
    out.push(`<h2>Hosts not judged (${view.hostFindings.length})</h2>`, '<table id="hosts-not-up"><thead><tr><th>Severity</th><th>Host</th><th>Status</th><th>Detail</th></tr></thead><tbody>');
    for (const finding of view.hostFindings) {
      const host = result.hosts.find((candidate) => candidate.address === finding.host);
      out.push(`<tr><td class="sev ${finding.severity}">${finding.severity}</td><td>${h(host ? describeHost(host) : finding.host)}</td><td>${h(finding.status.state)}</td><td>${h(finding.message)}</td></tr>`);
    }
    out.push('</tbody></table>');
  }

  if (conformance) {
    out.push(
      '<div class="counts">',
      count('error', 'errors', view.counts.error),
      count('warning', 'warnings', view.counts.warning),
      count('notice', 'notices', view.counts.notice),
      count('', 'accepted', view.counts.accepted),
      count('ok', 'conformant', view.counts.conformant),
      '</div>',
      `<p class="meta">Components ${h(conformance.selection.components.join(', '))} on platform ${h(conformance.selection.platform)} · matrix ${h(conformance.matrix.id)} · fail on ${h(conformance.failOn)}</p>`,
    );

    out.push('<h2>Port map</h2>', LEGEND);
    for (const hostMap of view.portMap) {
      for (const { component, entries } of hostMap.components) {
        out.push(`<h3>${h(describeHost(hostMap.host))} · ${h(component)}</h3>`, '<div class="map">');
        for (const entry of entries) out.push(renderTile(entry));
        out.push('</div>');
      }
      if (hostMap.extras.length > 0) {
        out.push(`<h3>${h(describeHost(hostMap.host))} · listeners outside the matrix</h3>`, '<div class="map">');
        for (const extra of hostMap.extras) out.push(renderExtraTile(extra));
        out.push('</div>');
      }
    }

    out.push('<h2>Findings</h2>');
    if (view.bySeverity.length === 0) out.push('<p>No deviations from the documented matrix.</p>');
    else {
      out.push('<table id="findings"><thead><tr><th>Severity</th><th>Kind</th><th>Host</th><th>Port</th><th>Documented</th><th>Observed</th><th>Matrix row</th><th>Detail</th></tr></thead><tbody>');
      for (const finding of view.deviations) out.push(renderFindingRow(finding));
      out.push('</tbody></table>');
    }
  } else {
    out.push('<h2>Ports</h2>');
    for (const host of result.hosts) {
      const folded = formatFolded(host);
      out.push(`<h3>${h(describeHost(host))}</h3>`, ...(folded === '' ? [] : [`<p class="meta">${h(folded)}</p>`]));
      if (host.observations.length === 0) continue;
      out.push('<table><thead><tr><th>Port</th><th>State</th><th>Reason</th><th>Service</th><th>Banner</th><th>Detail</th></tr></thead><tbody>');
      for (const observation of host.observations) {
        out.push(
          `<tr><td class="mono">${formatPort(observation.transport, observation.port)}</td><td>${h(observation.state)}</td><td>${h(observation.reason)}</td><td>${h(observation.service ?? '')}</td><td class="mono banner">${h(observation.banner ?? '')}</td><td>${h(observation.detail ?? '')}</td></tr>`,
        );
      }
      out.push('</tbody></table>');
    }
  }

  if (view.services.length > 0) {
    out.push(`<h2>Service checks</h2>`, `<p class="meta">--checks ${h(result.checks?.mode ?? 'documented')}: what answered on the checked ports, its TLS and certificate.</p>`);
    out.push('<table id="services"><thead><tr><th>Host</th><th>Port</th><th>Check</th><th>Outcome</th><th>TLS</th><th>Certificate</th><th>Answer</th><th>Matrix row</th></tr></thead><tbody>');
    for (const entry of view.services) {
      const cells = formatServiceCells(entry);
      const worst = entry.findings[0];
      const outcomeClass = worst && worst.severity !== 'off' ? ` class="sev ${worst.severity}"` : '';
      out.push(
        `<tr><td>${h(entry.check.host)}</td><td class="mono">${h(cells.port)}</td><td>${h(cells.check)}</td><td${outcomeClass}>${h(cells.outcome)}</td>` +
          `<td>${h(cells.tls)}</td><td>${h(cells.certificate)}</td><td class="mono banner">${h(cells.answer)}</td><td>${h(cells.row)}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }

  if (result.sincePrevious) {
    const { title, note } = describeSincePrevious(result.sincePrevious);
    out.push(`<h2 id="since-previous">${h(title)}</h2>`, ...(note ? [`<p class="meta">${h(note)}</p>`] : []), renderDriftHtmlSection(result.sincePrevious.drift, 'h3'));
  }

  out.push('<h2>What was scanned and how</h2>', '<ul>');
  out.push(`<li>Time: ${h(result.startedAt)} to ${h(result.finishedAt)}${result.complete ? '' : ' (incomplete)'}</li>`);
  out.push(`<li>Vantage point: ${h(result.vantage.hostname)} (${h(result.vantage.sourceAddresses.join(', ') || 'unknown source address')})</li>`);
  for (const host of result.hosts) {
    const states = countStates(host);
    out.push(
      `<li>Host ${h(describeHost(host))}, target ${h(host.target)}, ${h(formatHostStatus(host))}: tcp <code>${h(host.plan.tcp || 'not scanned')}</code>, udp <code>${h(host.plan.udp || 'not scanned')}</code>; ` +
        `${states.open} open, ${states.closed} closed, ${states.filtered} filtered, ${states['open|filtered']} open|filtered${host.complete ? '' : ' (incomplete)'}</li>`,
    );
  }
  out.push('</ul>');
  if (Object.keys(result.parameters).length > 0) {
    out.push(`<details><summary>Parameters</summary><pre class="mono">${h(JSON.stringify(result.parameters, null, 2))}</pre></details>`);
  }
  out.push('</body>', '</html>');
  return `${out.join('\n')}\n`;
}

const LEGEND = [
  '<div class="legend">',
  '<span><i class="swatch"></i> documented open</span>',
  '<span><i class="swatch" style="border-style:dashed;border-color:#5f6368"></i> documented closed / filtered / intra-device</span>',
  '<span><i class="swatch" style="border-style:dotted"></i> conditional</span>',
  '<span><i class="swatch" style="background:#e8f5e9"></i> as documented</span>',
  '<span><i class="swatch" style="background:#ffebee"></i> error</span>',
  '<span><i class="swatch" style="background:#fff3e0"></i> warning</span>',
  '<span><i class="swatch" style="background:#e3f2fd"></i> notice</span>',
  '<span><i class="swatch" style="background:#f1f1f1"></i> accepted (waived / off)</span>',
  '<span><i class="swatch" style="background:repeating-linear-gradient(45deg,#fafafa,#fafafa 4px,#ddd 4px,#ddd 8px)"></i> not scanned</span>',
  '</div>',
].join('');

function count(className: string, label: string, value: number): string {
  return `<div class="count ${className}"><b>${value}</b>${label}</div>`;
}

function fillFor(finding: Finding | undefined): string {
  if (!finding) return 'unscanned';
  if (finding.kind === 'conformant') return 'ok';
  if (finding.severity === 'off') return 'accepted';
  return finding.severity;
}

function documentedClass(entry: PortMapEntry): string {
  if (typeof entry.documented !== 'string') return 'doc-either';
  return entry.documented === 'open' && !entry.internal ? 'doc-open' : 'doc-dark';
}

function renderTile(entry: PortMapEntry): string {
  const h = escapeHtml;
  const documented = `${formatDocumented(entry.documented)}${entry.optional ? ', optional' : ''}${entry.internal ? ', intra-device' : ''}`;
  let fill: string;
  let kind: string;
  let observed: string;
  if (entry.dynamic) {
    const open = entry.openInRange ?? 0;
    fill = open > 0 ? 'notice' : 'ok';
    kind = open > 0 ? `${open} open` : 'dynamic, idle';
    observed = 'dynamic range';
  } else {
    fill = fillFor(entry.finding);
    kind = entry.finding ? (entry.finding.severity === 'off' && entry.finding.kind !== 'conformant' ? 'accepted' : KIND_TITLES[entry.finding.kind]) : 'not scanned';
    observed = entry.finding ? formatObserved(entry.finding) : 'not scanned';
  }
  const tooltip = entry.finding ? `${formatRef(entry.ref)} · ${entry.finding.message}` : formatRef(entry.ref);
  return (
    `<div class="tile ${documentedClass(entry)} ${fill}" title="${h(tooltip)}" data-port="${entry.transport}/${entry.start}">` +
    `<div class="port">${formatPort(entry.transport, entry.start, entry.end)}</div>` +
    `<div class="proto">${h(entry.protocol)}</div>` +
    `<div class="states">doc: ${h(documented)}<br>seen: ${h(observed)}</div>` +
    `<div class="kind">${h(kind)}</div></div>`
  );
}

function renderExtraTile(finding: Finding): string {
  const h = escapeHtml;
  return (
    `<div class="tile doc-dark ${fillFor(finding)}" title="${h(finding.message)}" data-port="${finding.transport}/${finding.port}">` +
    `<div class="port">${formatPort(finding.transport, finding.port)}</div>` +
    `<div class="proto">${h(finding.banner ?? '')}</div>` +
    `<div class="states">doc: ${h(finding.ref ? `dynamic range (${finding.ref.rowId})` : 'not documented')}<br>seen: ${h(formatObserved(finding))}</div>` +
    `<div class="kind">${h(finding.severity === 'off' ? 'accepted' : KIND_TITLES[finding.kind])}</div></div>`
  );
}

function renderFindingRow(finding: Finding): string {
  const h = escapeHtml;
  const severity: Severity | 'accepted' = finding.severity === 'off' ? 'accepted' : finding.severity;
  const detail = [
    h(finding.message),
    finding.banner === undefined ? '' : `banner: <span class="mono banner">${h(finding.banner)}</span>`,
    h(finding.detail ?? ''),
    h(formatWaiver(finding)),
  ]
    .filter((part) => part !== '')
    .join('<br>');
  return (
    `<tr><td class="sev ${finding.severity}">${severity}</td><td>${h(KIND_TITLES[finding.kind])}</td><td>${h(finding.host)}</td>` +
    `<td class="mono">${formatPort(finding.transport, finding.port)}</td><td>${h(formatDocumented(finding.expected))}</td>` +
    `<td>${h(formatObserved(finding))}</td><td>${h(formatRef(finding.ref))}</td><td>${detail}</td></tr>`
  );
}
