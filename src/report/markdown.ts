/**
 * The drift report a change board reads: summary, findings by severity with their matrix rows,
 * the full port map, then what was scanned and how. Every text cell goes through escapeMarkdown.
 */
import type { ScanResult } from '../result/model.js';
import { renderDriftMarkdownSection } from './drift/markdown.js';
import { describeSincePrevious } from './drift/view.js';
import { escapeMarkdown, toJsonText } from '../util/untrusted-text.js';
import {
  buildReportView,
  countStates,
  describeHost,
  formatHostStatus,
  formatDocumented,
  formatFolded,
  formatObserved,
  formatPort,
  formatRef,
  formatServiceCells,
  formatVerdict,
  formatWaiver,
  KIND_TITLES,
} from './view.js';

const SEVERITY_TITLES = { error: 'Errors', warning: 'Warnings', notice: 'Notices', off: 'Accepted', accepted: 'Accepted (waived, or off in the policy)' } as const;

export function renderMarkdown(result: ScanResult): string {
  const view = buildReportView(result);
  const conformance = result.conformance;
  const out: string[] = [];
  const md = escapeMarkdown;
  const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;

  out.push(
    conformance
      ? `# Port conformance: ${md(conformance.matrix.product)} ${md(conformance.matrix.version)}`
      : '# Port scan',
    '',
    `**${md(formatVerdict(view))}**`,
    '',
  );
  if (conformance) {
    out.push(
      row(['Errors', 'Warnings', 'Notices', 'Accepted', 'Conformant']),
      row(['---:', '---:', '---:', '---:', '---:']),
      row([view.counts.error, view.counts.warning, view.counts.notice, view.counts.accepted, view.counts.conformant].map(String)),
      '',
      `Matrix: ${md(conformance.matrix.document)} (${md(conformance.matrix.id)}); components ${md(conformance.selection.components.join(', '))}; platform ${md(conformance.selection.platform)}.`,
      '',
    );
    if (conformance.conditions) out.push(`Conditions declared to hold: ${md(conformance.conditions.join(', '))}.`, '');
    for (const note of conformance.notes ?? []) out.push(`> Document note (${md(note.kind)}): ${md(note.text)}`, '');
  }
  if (!result.complete) out.push(`> **Incomplete scan**${result.incompleteReason ? `: ${md(result.incompleteReason)}` : ''}. Ports not reached are not reported.`, '');
  if (view.hostFindings.length > 0) {
    out.push(`## Hosts not judged (${view.hostFindings.length})`, '', row(['Severity', 'Host', 'Status', 'Detail']), row(Array(4).fill('---')));
    for (const finding of view.hostFindings) {
      const host = result.hosts.find((candidate) => candidate.address === finding.host);
      out.push(row([finding.severity, md(host ? describeHost(host) : finding.host), finding.status.state, md(finding.message)]));
    }
    out.push('');
  }

  if (conformance) {
    out.push('## Findings', '');
    if (view.bySeverity.length === 0) out.push('No deviations from the documented matrix.', '');
    for (const group of view.bySeverity) {
      out.push(`### ${SEVERITY_TITLES[group.severity]} (${group.findings.length})`, '');
      out.push(row(['Kind', 'Host', 'Port', 'Documented', 'Observed', 'Matrix row', 'Detail']), row(Array(7).fill('---')));
      for (const finding of group.findings) {
        const detail = [finding.message, finding.banner === undefined ? '' : `banner: ${finding.banner}`, finding.detail ?? '', formatWaiver(finding)]
          .filter((part) => part !== '')
          .map(md)
          .join('<br>');
        out.push(
          row([
            md(KIND_TITLES[finding.kind]),
            md(finding.host),
            md(formatPort(finding.transport, finding.port)),
            md(formatDocumented(finding.expected)),
            md(formatObserved(finding)),
            md(formatRef(finding.ref)),
            detail,
          ]),
        );
      }
      out.push('');
    }

    out.push('## Port map', '');
    for (const hostMap of view.portMap) {
      for (const { component, entries } of hostMap.components) {
        out.push(`### ${md(describeHost(hostMap.host))}: ${md(component)}`, '');
        out.push(row(['Port', 'Protocol', 'Documented', 'Observed', 'Finding', 'Matrix row']), row(Array(6).fill('---')));
        for (const entry of entries) {
          const documented = `${formatDocumented(entry.documented)}${entry.optional ? ' (optional)' : ''}${entry.internal ? ' (intra-device)' : ''}${entry.dynamic ? ' (dynamic)' : ''}`;
          const observed = entry.dynamic ? `${entry.openInRange ?? 0} open` : entry.observed;
          const finding = entry.finding ? KIND_TITLES[entry.finding.kind] : entry.dynamic ? (entry.openInRange ? KIND_TITLES['dynamic-port-open'] : 'Conformant') : '-';
          out.push(row([formatPort(entry.transport, entry.start, entry.end), md(entry.protocol), md(documented), md(observed), md(finding), md(`${entry.ref.table} row ${entry.ref.row}`)]));
        }
        out.push('');
      }
      if (hostMap.extras.length > 0) {
        out.push(`### ${md(describeHost(hostMap.host))}: listeners outside the matrix`, '');
        out.push(row(['Port', 'Observed', 'Finding', 'Banner']), row(Array(4).fill('---')));
        for (const extra of hostMap.extras) {
          out.push(row([formatPort(extra.transport, extra.port), md(formatObserved(extra)), md(KIND_TITLES[extra.kind]), md(extra.banner ?? '')]));
        }
        out.push('');
      }
    }
  } else {
    out.push('## Ports', '');
    for (const host of result.hosts) {
      const folded = formatFolded(host);
      out.push(`### ${md(describeHost(host))}`, '', ...(folded === '' ? [] : [md(folded), '']));
      if (host.observations.length === 0) continue;
      out.push(row(['Port', 'State', 'Reason', 'Service', 'Banner', 'Detail']), row(Array(6).fill('---')));
      for (const observation of host.observations) {
        out.push(row([formatPort(observation.transport, observation.port), md(observation.state), observation.reason, md(observation.service ?? ''), md(observation.banner ?? ''), md(observation.detail ?? '')]));
      }
      out.push('');
    }
  }

  if (view.services.length > 0) {
    out.push(`## Service checks (--checks ${md(result.checks?.mode ?? 'documented')})`, '');
    out.push(row(['Host', 'Port', 'Check', 'Outcome', 'TLS', 'Certificate', 'Answer', 'Matrix row']), row(Array(8).fill('---')));
    for (const entry of view.services) {
      const cells = formatServiceCells(entry);
      const outcome = entry.findings.length > 0 ? `**${md(cells.outcome)}**` : md(cells.outcome);
      out.push(row([md(entry.check.host), md(cells.port), md(cells.check), outcome, md(cells.tls), md(cells.certificate), md(cells.answer), md(cells.row)]));
    }
    out.push('');
  }

  if (result.sincePrevious) {
    const { title, note } = describeSincePrevious(result.sincePrevious);
    out.push(`## ${md(title)}`, '', ...(note ? [md(note), ''] : []), renderDriftMarkdownSection(result.sincePrevious.drift, 2));
  }

  out.push('## What was scanned and how', '');
  out.push(
    `- Tool: ${md(result.tool.name)} ${md(result.tool.version)}; result format ${md(result.schema)} v${result.schemaVersion}`,
    `- Time: ${md(result.startedAt)} to ${md(result.finishedAt)}${result.complete ? '' : ' (incomplete)'}`,
    `- Vantage point: ${md(result.vantage.hostname)} (${md(result.vantage.sourceAddresses.join(', ') || 'unknown source address')})`,
  );
  if (conformance) out.push(`- Fail-on level: ${conformance.failOn}`);
  for (const host of result.hosts) {
    const states = countStates(host);
    out.push(
      `- Host ${md(describeHost(host))}, IPv${host.family}, target ${md(host.target)}, ${md(formatHostStatus(host))}: tcp ${md(host.plan.tcp || 'not scanned')}, udp ${md(host.plan.udp || 'not scanned')}; ` +
        `${states.open} open, ${states.closed} closed, ${states.filtered} filtered, ${states['open|filtered']} open|filtered${host.complete ? '' : ' (incomplete)'}`,
    );
  }
  const parameters = Object.entries(result.parameters);
  if (parameters.length > 0) {
    out.push('', '<details><summary>Parameters</summary>', '', '```json', toJsonText(result.parameters).replace(/`/g, '\\u0060'), '```', '', '</details>');
  }
  return `${out.join('\n')}\n`;
}
