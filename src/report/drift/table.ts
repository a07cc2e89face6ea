/** The terminal form of a drift, like ndiff's text: one block per changed host, +/-/~ per line. */
import picocolors from 'picocolors';
import type { Drift } from '../../conformance/drift.js';
import { toTerminalText } from '../../util/untrusted-text.js';
import { describeHost } from '../view.js';
import type { DriftRenderOptions } from './types.js';
import { changedHosts, formatHostDrift, describeChange, describeFinding, describeServiceChange, formatDriftSummary, formatRun } from './view.js';

export function renderDriftTable(drift: Drift, options: DriftRenderOptions = {}): string {
  const colors = picocolors.createColors(options.color ?? false);
  const clean = toTerminalText;
  const lines = [colors.bold(`portmatrix diff: ${formatRun(drift.before)} -> ${formatRun(drift.after)}`), formatDriftSummary(drift)];
  for (const host of changedHosts(drift)) {
    lines.push('', colors.bold(`${clean(describeHost(host))} (${formatHostDrift(host)})`));
    for (const change of host.ports) {
      const mark = change.after === 'open' ? colors.green('+') : change.before === 'open' ? colors.red('-') : '~';
      lines.push(`  ${mark} ${change.transport}/${change.port}: ${change.before ?? 'not scanned'} -> ${change.after ?? 'not scanned'}`);
    }
    for (const [mark, findings, what] of [
      [colors.red('+'), host.appeared, 'appeared'],
      [colors.green('-'), host.resolved, 'resolved'],
    ] as const) {
      for (const finding of findings) {
        const line = describeFinding(finding);
        lines.push(`  ${mark} ${what} ${line.severity} ${line.kind} ${line.port}: ${clean(line.message)}`);
      }
    }
    for (const change of host.changed) {
      const line = describeFinding(change.after);
      lines.push(`  ~ changed ${line.kind} ${line.port}: ${clean(describeChange(change))}`);
    }
    for (const change of host.services) lines.push(`  ~ service tcp/${change.port}: ${clean(describeServiceChange(change))}`);
  }
  return `${lines.join('\n')}\n`;
}
