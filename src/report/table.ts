/** The terminal report: a summary, then one cli-table3 table per finding kind. */
import Table from 'cli-table3';
import picocolors from 'picocolors';
import type { Severity } from '../conformance/model.js';
import type { ScanResult } from '../result/model.js';
import { toTerminalText } from '../util/untrusted-text.js';
import { renderDriftTable } from './drift/table.js';
import { describeSincePrevious } from './drift/view.js';
import type { RenderOptions } from './types.js';
import { buildReportView, countStates, describeHost, formatHostStatus, formatServiceCells, formatDocumented, formatFolded, formatObserved, formatPort, formatShortRef, formatVerdict, formatWaiver, KIND_TITLES } from './view.js';

const BANNER_WIDTH = 40;
/** At most this wide: a waiver note wraps onto two or three lines. */
const DETAIL_WIDTH = 60;
const SERVICE_TEXT_WIDTH = 36;

export function renderTable(result: ScanResult, options: RenderOptions = {}): string {
  const colors = picocolors.createColors(options.color ?? false);
  const paint: Record<Severity, (text: string) => string> = {
    error: (text) => colors.bold(colors.red(text)),
    warning: colors.yellow,
    notice: colors.cyan,
    off: colors.dim,
  };
  const view = buildReportView(result);
  const lines: string[] = [];
  const conformance = result.conformance;

  const title = conformance
    ? `${conformance.matrix.product} ${conformance.matrix.version} (${conformance.matrix.id}) · components ${conformance.selection.components.join(', ')} · platform ${conformance.selection.platform}`
    : 'port scan (no matrix)';
  lines.push(colors.bold(clean(`${result.tool.name} ${result.tool.version} · ${title}`)));
  lines.push(`Scanned ${clean(`${result.startedAt} → ${result.finishedAt} from ${result.vantage.hostname}`)}${result.complete ? '' : colors.red(` · INCOMPLETE${result.incompleteReason ? `: ${clean(result.incompleteReason)}` : ''}`)}`);
  for (const host of result.hosts) {
    const states = countStates(host);
    const status = formatHostStatus(host);
    lines.push(
      host.status.state !== 'up'
        ? `Host ${clean(describeHost(host))}: ${colors.red(status)}`
        : `Host ${clean(describeHost(host))}: ${states.open} open, ${states.closed} closed, ${states.filtered} filtered, ${states['open|filtered']} open|filtered` +
            clean(` · tcp ${host.plan.tcp || 'not scanned'} · udp ${host.plan.udp || 'not scanned'}`) +
            (host.complete ? '' : ' · incomplete') +
            (status === 'up' ? '' : ` · ${status}`),
    );
  }
  const verdict = formatVerdict(view);
  lines.push(
    `Result: ${view.exitCode === 1 || view.exitCode === 3 ? colors.bold(colors.red(verdict)) : colors.green(verdict)}` +
      (conformance
        ? ` · ${paint.error(`${view.counts.error} error`)}, ${paint.warning(`${view.counts.warning} warning`)}, ${paint.notice(`${view.counts.notice} notice`)}, ${view.counts.accepted} accepted, ${view.counts.conformant} conformant`
        : ''),
  );
  if (conformance?.conditions) lines.push(`Conditions declared to hold: ${clean(conformance.conditions.join(', '))}`);
  for (const note of conformance?.notes ?? []) lines.push(colors.dim(`Document note (${note.kind}): ${clean(note.text)}`));

  // The host column only when there is more than one host, the detail column only when some
  // finding of the group has one: a findings table should fit a terminal.
  const manyHosts = result.hosts.length > 1;
  if (view.hostFindings.length > 0) {
    lines.push('', colors.bold(`Hosts not judged (${view.hostFindings.length})`));
    const table = createTable(['Severity', 'Host', 'Status', 'Detail'], DETAIL_WIDTH);
    for (const finding of view.hostFindings) {
      const host = result.hosts.find((candidate) => candidate.address === finding.host);
      table.push([paint[finding.severity](finding.severity), clean(host ? describeHost(host) : finding.host), finding.status.state, clean(finding.message)]);
    }
    lines.push(table.toString());
  }
  for (const group of view.byKind) {
    lines.push('', colors.bold(`${KIND_TITLES[group.kind]} (${group.findings.length})`));
    const rows = group.findings.map((finding) => {
      const detail = [
        finding.ref ? '' : 'not in the matrix',
        finding.banner === undefined ? '' : `banner: ${truncate(finding.banner, BANNER_WIDTH)}`,
        finding.detail ?? '',
        formatWaiver(finding),
      ]
        .filter((part) => part !== '')
        .join('; ');
      return {
        cells: [
          paint[finding.severity](finding.severity === 'off' ? 'accepted' : finding.severity),
          ...(manyHosts ? [clean(finding.host)] : []),
          formatPort(finding.transport, finding.port),
          clean(formatDocumented(finding.expected)),
          clean(formatObserved(finding)),
          clean(formatShortRef(finding.ref)),
        ],
        detail: clean(detail),
      };
    });
    const detailLength = rows.reduce((longest, row) => Math.max(longest, row.detail.length), 0);
    const head = ['Severity', ...(manyHosts ? ['Host'] : []), 'Port', 'Documented', 'Observed', 'Matrix row'];
    const table =
      detailLength === 0
        ? createTable(head)
        : createTable([...head, 'Detail'], Math.min(DETAIL_WIDTH, Math.max(detailLength, 'Detail'.length) + 2));
    for (const row of rows) table.push(detailLength === 0 ? row.cells : [...row.cells, row.detail]);
    lines.push(table.toString());
  }

  if (view.services.length > 0) {
    lines.push('', colors.bold(`Service checks (${view.services.length}, --checks ${result.checks?.mode ?? 'documented'}, ${((result.checks?.durationMs ?? 0) / 1000).toFixed(1)} s)`));
    const head = [...(manyHosts ? ['Host'] : []), 'Port', 'Check', 'Outcome', 'TLS', 'Certificate', 'Answer', 'Matrix row'];
    // Certificates and answers are long: those two columns wrap, the others take what they need.
    const table = new Table({
      head,
      style: { head: [], border: [] },
      wordWrap: true,
      colWidths: [...(manyHosts ? [null] : []), null, null, null, null, SERVICE_TEXT_WIDTH, SERVICE_TEXT_WIDTH, null],
    });
    for (const entry of view.services) {
      const cells = formatServiceCells(entry);
      const worst = entry.findings[0];
      table.push([
        ...(manyHosts ? [clean(entry.check.host)] : []),
        cells.port,
        clean(cells.check),
        worst && worst.severity !== 'off' ? paint[worst.severity](cells.outcome) : cells.outcome,
        clean(cells.tls),
        clean(cells.certificate),
        clean(cells.answer),
        clean(cells.row),
      ]);
    }
    lines.push(table.toString());
  }

  if (!conformance) {
    for (const host of result.hosts) {
      lines.push('', colors.bold(`${clean(describeHost(host))}: ${host.observations.length} port${host.observations.length === 1 ? '' : 's'} listed`));
      const folded = formatFolded(host);
      if (folded !== '') lines.push(folded);
      if (host.observations.length === 0) continue;
      // Plain columns as nmap prints them: cli-table3 is quadratic in rows (8,000 rows take 4 s),
      // and a host whose dark ports are half closed, half filtered lists 32k of them.
      const rows = host.observations.map((observation) => [
        formatPort(observation.transport, observation.port),
        observation.state,
        observation.reason,
        observation.rttMs === null ? '-' : observation.rttMs.toFixed(1),
        clean(observation.service ?? ''),
        clean(truncate(observation.banner ?? '', BANNER_WIDTH)),
        clean(observation.detail ?? ''),
      ]);
      for (const line of alignColumns(['PORT', 'STATE', 'REASON', 'RTT MS', 'SERVICE', 'BANNER', 'DETAIL'], rows)) lines.push(line);
    }
  }
  if (result.sincePrevious) {
    const { title, note } = describeSincePrevious(result.sincePrevious);
    // The drift's own first line names both runs: the section's title says it.
    const drift = renderDriftTable(result.sincePrevious.drift, { color: options.color ?? false }).split('\n').slice(1);
    lines.push('', colors.bold(clean(title)), ...(note ? [clean(note)] : []), ...drift.slice(0, -1));
  }
  return `${lines.join('\n')}\n`;
}

function createTable(head: string[], lastColumnWidth?: number): Table.Table {
  // No styling from cli-table3 itself: its colour library would look at the process.
  const colWidths = lastColumnWidth === undefined ? [] : [...head.slice(1).map(() => null), lastColumnWidth];
  return new Table({ head, style: { head: [], border: [] }, wordWrap: true, colWidths });
}

/** Left-aligned columns two spaces apart, trailing blanks trimmed; linear in the rows. */
function alignColumns(head: string[], rows: string[][]): string[] {
  const widths = head.map((title, column) => rows.reduce((width, row) => Math.max(width, row[column]!.length), title.length));
  return [head, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}

function clean(text: string): string {
  return toTerminalText(text);
}

function truncate(text: string, width: number): string {
  const single = text.replace(/\s+/g, ' ').trim();
  return single.length > width ? `${single.slice(0, width - 1)}…` : single;
}
