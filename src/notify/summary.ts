/**
 * What a notification says, as data (JSON) and as one text for chat webhooks (Slack and Teams
 * take {"text": ...}): the findings at or above a level that appeared or were resolved since the
 * previous run, per host. Pure. Text from the network never reaches a chat message: findings are
 * named by kind, host, port and severity only.
 */
import type { Drift } from '../conformance/drift.js';
import type { Finding, Severity } from '../conformance/model.js';
import { failsAt } from '../conformance/policy.js';

export type NotifyLevel = Exclude<Severity, 'off'>;
export type NotifyFormat = 'json' | 'slack' | 'teams';
export const NOTIFY_FORMATS: readonly NotifyFormat[] = ['json', 'slack', 'teams'];

export interface NotificationChange {
  host: string;
  kind: Finding['kind'];
  severity: Severity;
  port: string;
  row?: string;
}

export interface NotificationSummary {
  schema: 'portmatrix/notification';
  schemaVersion: 1;
  /** What the run was (scan, audit) and where its reports are. */
  run: { command: string; startedAt: string; previous?: string; exitCode: number; reports?: string };
  level: NotifyLevel;
  appeared: NotificationChange[];
  resolved: NotificationChange[];
}

function change(finding: Finding): NotificationChange {
  return {
    host: finding.host,
    kind: finding.kind,
    severity: finding.severity,
    port: `${finding.transport}/${finding.port}`,
    ...(finding.ref ? { row: `${finding.ref.table} row ${finding.ref.row}` } : {}),
  };
}

/** The summary, or null when nothing at or above `level` appeared or resolved (nothing to say). */
export function summarizeForNotification(drift: Drift, options: { level: NotifyLevel; run: NotificationSummary['run'] }): NotificationSummary | null {
  const relevant = (finding: Finding): boolean => failsAt(finding.severity, options.level);
  const appeared = drift.hosts.flatMap((host) => [...host.appeared, ...host.changed.filter((c) => !relevant(c.before)).map((c) => c.after)]).filter(relevant);
  const resolved = drift.hosts.flatMap((host) => [...host.resolved, ...host.changed.filter((c) => !relevant(c.after)).map((c) => c.before)]).filter(relevant);
  if (appeared.length === 0 && resolved.length === 0) return null;
  return { schema: 'portmatrix/notification', schemaVersion: 1, run: options.run, level: options.level, appeared: appeared.map(change), resolved: resolved.map(change) };
}

const MAX_LINES = 20;

/** The body to POST in the chosen format. */
export function renderNotification(summary: NotificationSummary, format: NotifyFormat): string {
  if (format === 'json') return JSON.stringify(summary);
  const line = (mark: string, c: NotificationChange) => `${mark} ${c.severity} ${c.kind} ${c.host} ${c.port}${c.row ? ` (${c.row})` : ''}`;
  const lines = [...summary.appeared.map((c) => line('+', c)), ...summary.resolved.map((c) => line('-', c))];
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > MAX_LINES) shown.push(`... and ${lines.length - MAX_LINES} more`);
  const title = `portmatrix ${summary.run.command} ${summary.run.startedAt}: ${summary.appeared.length} finding${summary.appeared.length === 1 ? '' : 's'} at ${summary.level} or above appeared, ${summary.resolved.length} resolved since ${summary.run.previous ?? 'no earlier run'} (exit ${summary.run.exitCode})`;
  const reports = summary.run.reports ? `\nReports: ${summary.run.reports}` : '';
  // Slack and Teams incoming webhooks both take {"text": ...}; Teams renders Markdown, so lines keep their breaks.
  const text = `${title}\n${shown.join(format === 'teams' ? '  \n' : '\n')}${reports}`;
  return JSON.stringify({ text });
}
