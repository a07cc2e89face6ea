/** The audit as one Markdown document: the summary table, expiring waivers, then each host's own report one heading level down. */
import { renderMarkdown } from '../../report/markdown.js';
import { escapeMarkdown } from '../../util/untrusted-text.js';
import type { AuditSincePrevious } from '../drift.js';
import { renderDriftMarkdownSection } from '../../report/drift/markdown.js';
import type { AuditResult } from '../model.js';
import { buildAuditRows, describeAuditSincePrevious, formatAuditSummary } from './view.js';

export function renderAuditMarkdown(audit: AuditResult, sincePrevious?: AuditSincePrevious): string {
  const md = escapeMarkdown;
  const rows = buildAuditRows(audit);
  const out = [
    '# Port conformance audit',
    '',
    `**${md(formatAuditSummary(audit, rows))}**`,
    '',
    '| Host | Site | Matrix | Verdict | Errors | Warnings | Notices | Accepted | Scanned from |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (row) =>
        `| ${[row.label, row.host.site ?? '', row.matrix, row.verdict].map(md).join(' | ')} | ${[row.counts.error, row.counts.warning, row.counts.notice, row.counts.accepted].join(' | ')} | ${md(row.host.result.vantage.hostname)} |`,
    ),
    '',
  ];
  if (sincePrevious) {
    const { title, notes } = describeAuditSincePrevious(sincePrevious);
    out.push(`## ${md(title)}`, '', ...notes.flatMap((note) => [md(note), '']), renderDriftMarkdownSection(sincePrevious.drift, 2));
  }
  if (audit.expiringWaivers.length > 0) {
    out.push(`## Waivers expiring within ${audit.parameters.warnWaiverDays} days`, '', '| Host | Port | Ticket | Reason | Expires | Days left |', '| --- | --- | --- | --- | --- | ---: |');
    for (const waiver of audit.expiringWaivers) {
      out.push(`| ${[waiver.address, `${waiver.transport}/${waiver.port}`, waiver.ticket ?? '', waiver.reason, waiver.expires].map(md).join(' | ')} | ${waiver.daysLeft} |`);
    }
    out.push('');
  }
  for (const row of rows) {
    // Each host's own report, its headings one level down under the host's heading.
    out.push(`## ${md(row.label)}`, '', renderMarkdown(row.host.result).replace(/^(#+) /gm, '#$1 ').replace(/^## Port conformance: /m, '### Port conformance: '));
  }
  return `${out.join('\n')}\n`;
}
