/** What every audit renderer shows per host, computed once. Pure. */
import { buildReportView, type Counts } from '../../report/view.js';
import { describeMatrixChange } from '../../report/drift/view.js';
import type { AuditSincePrevious } from '../drift.js';
import type { AuditHost, AuditResult } from '../model.js';

export interface AuditHostRow {
  host: AuditHost;
  /** The host page's file, relative to the report folder. */
  page: string;
  label: string;
  matrix: string;
  verdict: string;
  counts: Counts;
}

const VERDICTS: Record<number, string> = { 0: 'conformant', 1: 'NOT conformant', 3: 'not judged (host down or unreachable)', 130: 'incomplete (interrupted)' };

/** A host its policy let be down (host-not-up below error) was still not judged: its exit code alone would read conformant. */
function describeVerdict(host: AuditHost): string {
  const notUp = host.result.conformance?.hostFindings[0];
  if (notUp && notUp.severity !== 'error') return `not judged (host ${notUp.status.state}; ${notUp.severity} by policy)`;
  return VERDICTS[host.exitCode] ?? `exit ${host.exitCode}`;
}

/** A file name for a host page: the address with what a file system or URL dislikes replaced. */
export function hostPageName(address: string): string {
  return `hosts/${address.replace(/[^0-9A-Za-z.-]/g, '_')}.html`;
}

export function buildAuditRows(audit: AuditResult): AuditHostRow[] {
  return audit.hosts.map((host) => {
    const conformance = host.result.conformance;
    return {
      host,
      page: hostPageName(host.address),
      label: host.name === undefined ? host.address : `${host.name} (${host.address})`,
      matrix: conformance ? `${conformance.matrix.id} · ${conformance.selection.components.join(', ')} · ${conformance.selection.platform}` : 'no matrix',
      verdict: describeVerdict(host),
      counts: buildReportView(host.result).counts,
    };
  });
}

/** "6 hosts: 4 conformant, 2 NOT conformant · exit 1" */
export function formatAuditSummary(audit: AuditResult, rows: readonly AuditHostRow[]): string {
  const tally = new Map<string, number>();
  for (const row of rows) tally.set(row.verdict, (tally.get(row.verdict) ?? 0) + 1);
  const parts = [...tally].map(([verdict, count]) => `${count} ${verdict}`);
  const scope = audit.shard ? ` (shard ${audit.shard.index}/${audit.shard.count} of ${audit.inventory.hosts})` : '';
  return `${rows.length} host${rows.length === 1 ? '' : 's'}${scope}: ${parts.join(', ') || 'none audited'} · exit ${audit.exitCode}${audit.complete ? '' : ` · INCOMPLETE: ${audit.incompleteReason ?? ''}`}`;
}

/** The "since the previous run" section's title, and a line per host the previous run judged against another matrix. */
export function describeAuditSincePrevious(since: AuditSincePrevious): { title: string; notes: string[] } {
  return {
    title: `Since the previous run (${since.drift.before.startedAt})`,
    notes: since.matrixChanged.map((change) => describeMatrixChange(`Host ${change.address} in the previous run`, change)),
  };
}
