/** The terminal summary of an audit: one row per host, then waivers about to expire. */
import Table from 'cli-table3';
import picocolors from 'picocolors';
import { toTerminalText } from '../../util/untrusted-text.js';
import type { AuditSincePrevious } from '../drift.js';
import { renderDriftTable } from '../../report/drift/table.js';
import type { AuditResult } from '../model.js';
import { buildAuditRows, describeAuditSincePrevious, formatAuditSummary } from './view.js';

export function renderAuditTable(audit: AuditResult, options: { color?: boolean; sincePrevious?: AuditSincePrevious } = {}): string {
  const colors = picocolors.createColors(options.color ?? false);
  const clean = toTerminalText;
  const rows = buildAuditRows(audit);
  const table = new Table({ head: ['Host', 'Site', 'Matrix', 'Verdict', 'Err', 'Warn', 'Notice', 'Scanned from'], style: { head: [], border: [] } });
  for (const row of rows) {
    const verdict = row.host.exitCode === 1 ? colors.red(row.verdict) : row.host.exitCode === 0 ? colors.green(row.verdict) : colors.dim(row.verdict);
    table.push([clean(row.label), clean(row.host.site ?? ''), clean(row.matrix), verdict, row.counts.error, row.counts.warning, row.counts.notice, clean(row.host.result.vantage.hostname)]);
  }
  const lines = [colors.bold(`portmatrix audit · ${clean(audit.inventory.file)} · ${audit.startedAt} → ${audit.finishedAt}`), formatAuditSummary(audit, rows), table.toString()];
  if (audit.expiringWaivers.length > 0) {
    lines.push(`Waivers expiring within ${audit.parameters.warnWaiverDays} days (notice):`);
    for (const waiver of audit.expiringWaivers) {
      lines.push(`  ${clean(waiver.address)} ${waiver.transport}/${waiver.port} ${clean(waiver.ticket ?? '')} expires ${waiver.expires} (${waiver.daysLeft} day${waiver.daysLeft === 1 ? '' : 's'}): ${clean(waiver.reason)}`);
    }
  }
  if (options.sincePrevious) {
    const { notes } = describeAuditSincePrevious(options.sincePrevious);
    lines.push('', `Since the previous run: ${renderDriftTable(options.sincePrevious.drift, { color: options.color ?? false }).trimEnd()}`, ...notes.map(clean));
  }
  return `${lines.join('\n')}\n`;
}
