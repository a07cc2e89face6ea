/** The drift as Markdown: a summary, then per changed host its port changes and finding changes. */
import type { Drift } from '../../conformance/drift.js';
import { escapeMarkdown } from '../../util/untrusted-text.js';
import { describeHost } from '../view.js';
import { changedHosts, formatHostDrift, describeFinding, describeServiceChange, findingChangeRows, formatDriftSummary, formatRun } from './view.js';

export function renderDriftMarkdown(drift: Drift): string {
  const md = escapeMarkdown;
  const row = (cells: string[]): string => `| ${cells.map(md).join(' | ')} |`;
  const out = [`# Drift: ${md(formatRun(drift.before))} → ${md(formatRun(drift.after))}`, '', `**${md(formatDriftSummary(drift))}**`, ''];
  for (const host of changedHosts(drift)) {
    out.push(`## ${md(describeHost(host))} (${md(formatHostDrift(host))})`, '');
    if (host.ports.length > 0) {
      out.push('| Port | Before | After |', '| --- | --- | --- |');
      for (const change of host.ports) out.push(row([`${change.transport}/${change.port}`, change.before ?? 'not scanned', change.after ?? 'not scanned']));
      out.push('');
    }
    const findingRows = findingChangeRows(host);
    if (findingRows.length > 0) {
      out.push('| Finding | Severity | Kind | Port | Detail |', '| --- | --- | --- | --- | --- |');
      for (const { change, finding, detail } of findingRows) {
        const line = describeFinding(finding);
        out.push(row([change, line.severity, line.kind, line.port, detail]));
      }
      out.push('');
    }
    if (host.services.length > 0) {
      out.push('| Service | Port | What changed |', '| --- | --- | --- |');
      for (const change of host.services) out.push(row([change.after.check, `tcp/${change.port}`, describeServiceChange(change)]));
      out.push('');
    }
  }
  return `${out.join('\n')}\n`;
}

/** The drift as a section of another Markdown report, its headings under a `level` heading ("since the previous run"). */
export function renderDriftMarkdownSection(drift: Drift, level: number): string {
  const deeper = '#'.repeat(level - 1);
  return renderDriftMarkdown(drift)
    .split('\n')
    .slice(2)
    .map((line) => line.replace(/^(#+) /, `${deeper}$1 `))
    .join('\n');
}
