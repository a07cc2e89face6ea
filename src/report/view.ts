/**
 * What every renderer shows, computed once from a ScanResult: the verdict, counts, findings
 * grouped by kind and by severity, and the port map (documented vs observed per expected port,
 * per host and component). Renderers only lay this out. Pure.
 */
import { checkHostStatus, compareText, verdictExitCode } from '../conformance/diff.js';
import type { FailOn, Finding, FindingKind, HostFinding, Severity } from '../conformance/model.js';
import { FINDING_KINDS, SERVICE_FINDING_KINDS } from '../conformance/model.js';
import { describeCertificate, formatTlsVersion } from '../conformance/services.js';
import type { ServiceCheck } from '../checks/model.js';
import { compareSeverity, exitCodeFor } from '../conformance/policy.js';
import type { Expectation, ExpectationRef } from '../matrix/expectation.js';
import type { DocumentedState } from '../matrix/model.js';
import type { ScanResult } from '../result/model.js';
import { describeHostStatus } from '../scan/host-status.js';
import type { HostScan, PortState } from '../model/port-state.js';

export const KIND_TITLES: Record<FindingKind, string> = {
  'missing-listener': 'Missing listener',
  'optional-listener-disabled': 'Optional listener disabled',
  'optional-listener-enabled': 'Optional listener enabled',
  'filtered-port-reachable': 'Filtered port reachable',
  'internal-port-exposed': 'Internal port exposed',
  'extra-listener': 'Extra listener',
  'dynamic-port-open': 'Dynamic-range port open',
  'udp-unconfirmed': 'UDP unconfirmed (no reply)',
  'listener-moved': 'Listener moved?',
  'service-mismatch': 'Service mismatch',
  'service-no-answer': 'Service did not answer the check',
  'tls-below-floor': 'TLS below the floor',
  'certificate-expired': 'Certificate expired',
  'certificate-expiring': 'Certificate expiring',
  'certificate-self-signed': 'Certificate self-signed',
  'certificate-name-mismatch': 'Certificate name mismatch',
  'port-flapping': 'Port flapping (open, then not on a second look)',
  'answers-everything': 'Host answers on every port',
  'conditional-listener': 'Conditional listener open',
  conformant: 'Conformant',
};

export interface Counts {
  error: number;
  warning: number;
  notice: number;
  /** Deviations at severity off: a live waiver, or the policy turned the kind off. */
  accepted: number;
  conformant: number;
}

export interface ReportView {
  result: ScanResult;
  failOn: FailOn | undefined;
  /** 0 or 1 at failOn, 3 when a host was not up; undefined without a conformance check and with every host up. */
  exitCode: 0 | 1 | 3 | undefined;
  /** 0 or 1 from the findings of the judged hosts at failOn; undefined without a conformance check. */
  findingsExitCode: 0 | 1 | undefined;
  /** One per host that was not up (down or unreachable): not judged, exit 3. */
  hostFindings: HostFinding[];
  counts: Counts;
  /** Findings that are deviations (everything but conformant), worst severity first. */
  deviations: Finding[];
  byKind: { kind: FindingKind; findings: Finding[] }[];
  bySeverity: { severity: Severity | 'accepted'; findings: Finding[] }[];
  portMap: HostPortMap[];
  /** What each service check saw, with the findings it gave (src/checks/, --checks). */
  services: ServiceEntry[];
}

export interface ServiceEntry {
  check: ServiceCheck;
  /** The service findings on that host and port (worst first), empty when it answered as documented. */
  findings: Finding[];
  /** The matrix row that asked for the check; absent under --checks all outside the matrix. */
  ref?: ExpectationRef;
}

/** A service check as text cells, the same in every report. */
export interface ServiceCells {
  port: string;
  check: string;
  outcome: string;
  tls: string;
  certificate: string;
  answer: string;
  row: string;
}

export interface PortMapEntry {
  transport: Expectation['transport'];
  /** One port, or a dynamic range (start < end). */
  start: number;
  end: number;
  documented: DocumentedState;
  optional: boolean;
  internal: boolean;
  dynamic: boolean;
  protocol: string;
  /** Observed state; 'not scanned' when the plan did not cover the port; for dynamic ranges the count of open ports. */
  observed: PortState | 'not scanned';
  openInRange?: number;
  finding?: Finding;
  ref: ExpectationRef;
}

export interface HostPortMap {
  host: HostScan;
  components: { component: string; entries: PortMapEntry[] }[];
  /** Open ports no row accounts for, and open ports inside dynamic ranges. */
  extras: Finding[];
}

export function buildReportView(result: ScanResult): ReportView {
  const conformance = result.conformance;
  const findings = conformance?.findings ?? [];
  const deviations = findings.filter((finding) => finding.kind !== 'conformant').sort(compareByConcern);
  const counts: Counts = { error: 0, warning: 0, notice: 0, accepted: 0, conformant: 0 };
  for (const finding of findings) {
    if (finding.kind === 'conformant') counts.conformant += 1;
    else if (finding.severity === 'off') counts.accepted += 1;
    else counts[finding.severity] += 1;
  }
  const byKind = FINDING_KINDS.filter((kind) => kind !== 'conformant')
    .map((kind) => ({ kind, findings: deviations.filter((finding) => finding.kind === kind) }))
    .filter((group) => group.findings.length > 0);
  const severityGroups: (Severity | 'accepted')[] = ['error', 'warning', 'notice', 'accepted'];
  const bySeverity = severityGroups
    .map((severity) => ({
      severity,
      findings: deviations.filter((finding) => (severity === 'accepted' ? finding.severity === 'off' : finding.severity === severity)),
    }))
    .filter((group) => group.findings.length > 0);
  const findingsExitCode = conformance ? exitCodeFor(findings, conformance.failOn) : undefined;
  const hostFindings = conformance?.hostFindings ?? checkHostStatus(result.hosts);
  return {
    result,
    failOn: conformance?.failOn,
    exitCode: conformance || hostFindings.length > 0 ? verdictExitCode(result) : undefined,
    findingsExitCode,
    hostFindings,
    counts,
    deviations,
    byKind,
    bySeverity,
    portMap: result.hosts.map((host) => buildHostPortMap(host, conformance?.expectations ?? [], findings)),
    services: buildServiceEntries(result, deviations),
  };
}

function buildServiceEntries(result: ScanResult, deviations: readonly Finding[]): ServiceEntry[] {
  const expectations = result.conformance?.expectations ?? [];
  return (result.checks?.services ?? []).map((check) => {
    const ref = expectations.find((expectation) => expectation.ref.rowId === check.rowIds[0])?.ref;
    const findings = deviations.filter(
      (finding) => SERVICE_FINDING_KINDS.has(finding.kind) && finding.host === check.host && finding.transport === 'tcp' && finding.port === check.port,
    );
    return { check, findings, ...(ref ? { ref } : {}) };
  });
}

const OUTCOME_TEXT: Record<ServiceCheck['outcome'], string> = { answered: 'answered', mismatch: 'MISMATCH', 'no-answer': 'no answer' };

export function formatServiceCells(entry: ServiceEntry): ServiceCells {
  const { check } = entry;
  const tls = check.tls;
  const certificate = tls?.certificate;
  const answer = [
    check.protocolSeen ?? '',
    check.http ? `HTTP ${check.http.status}${check.http.location ? ` -> ${check.http.location}` : ''}${check.http.server ? `, Server: ${check.http.server}` : ''}` : '',
    check.banner !== undefined && check.banner !== check.http?.server ? check.banner : '',
    check.outcome === 'answered' ? '' : (check.detail ?? ''),
  ].filter((part) => part !== '');
  return {
    port: formatPort(check.transport, check.port),
    check: `${check.check}${check.basis === 'documented' ? '' : ` (${check.basis})`}`,
    outcome: OUTCOME_TEXT[check.outcome],
    tls: tls ? `${formatTlsVersion(tls.version)}${tls.versionsOffered.length > 1 ? ` (also ${tls.versionsOffered.filter((version) => version !== tls.version).map(formatTlsVersion).join(', ')})` : ''}` : '-',
    certificate: certificate ? describeCertificate(certificate) : '-',
    answer: answer.join('; ') || '-',
    row: entry.ref ? `${entry.ref.table} row ${entry.ref.row}` : check.documentedProtocol ? check.documentedProtocol : 'not in the matrix',
  };
}

/** Worst first, then host, transport, port: the order an auditor reads. */
function compareByConcern(a: Finding, b: Finding): number {
  return (
    compareSeverity(a.severity, b.severity) ||
    compareText(a.host, b.host) ||
    compareText(a.transport, b.transport) ||
    a.port - b.port ||
    compareText(a.kind, b.kind)
  );
}

function buildHostPortMap(host: HostScan, expectations: readonly Expectation[], findings: readonly Finding[]): HostPortMap {
  const ofHost = findings.filter((finding) => finding.host === host.address);
  const components: HostPortMap['components'] = [];
  for (const expectation of expectations) {
    let group = components.find((candidate) => candidate.component === expectation.component);
    if (!group) {
      group = { component: expectation.component, entries: [] };
      components.push(group);
    }
    const base = {
      transport: expectation.transport,
      documented: expectation.state,
      optional: expectation.optional,
      internal: expectation.internal,
      dynamic: expectation.dynamic,
      protocol: expectation.protocol,
      ref: expectation.ref,
    };
    if (expectation.dynamic) {
      const open = ofHost.filter(
        (finding) => finding.kind === 'dynamic-port-open' && finding.ref?.rowId === expectation.ref.rowId && finding.transport === expectation.transport,
      );
      group.entries.push({ ...base, start: expectation.start, end: expectation.end, observed: open.length > 0 ? 'open' : 'closed', openInRange: open.length });
      continue;
    }
    for (let port = expectation.start; port <= expectation.end; port++) {
      const finding = ofHost.find(
        (candidate) =>
          candidate.transport === expectation.transport && candidate.port === port && candidate.ref?.rowId === expectation.ref.rowId && candidate.kind !== 'dynamic-port-open',
      );
      group.entries.push({
        ...base,
        start: port,
        end: port,
        observed: finding ? finding.observed : 'not scanned',
        ...(finding ? { finding } : {}),
      });
    }
  }
  const extras = ofHost.filter((finding) => finding.kind === 'dynamic-port-open' || (finding.kind === 'extra-listener' && !finding.ref));
  return { host, components, extras };
}

export function formatDocumented(state: DocumentedState | 'not documented'): string {
  return typeof state === 'string' ? state : `${state.conditional}${state.whenMet ? ` (${state.whenMet} when met)` : ''}`;
}

/** "IP Office Port Matrix 9.1 / Table 3 row 12 (ipo-sip-udp)" */
export function formatRef(ref: ExpectationRef | undefined): string {
  if (!ref) return 'not in the matrix';
  return `${ref.document} / ${ref.table} row ${ref.row} (${ref.rowId})`;
}

export function formatShortRef(ref: ExpectationRef | undefined): string {
  return ref ? `${ref.table} row ${ref.row}` : '-';
}

export function formatPort(transport: string, start: number, end = start): string {
  // Port 0: a finding about the whole host (every port of the transport).
  if (start === 0) return `${transport}/*`;
  return start === end ? `${transport}/${start}` : `${transport}/${start}-${end}`;
}

/** The observed state of a finding, with the moved-to port for listener-moved. */
export function formatObserved(finding: Finding): string {
  const moved = finding.movedTo ? `; ${finding.transport}/${finding.movedTo.port} ${finding.movedTo.state}` : '';
  return `${finding.observed} (${finding.reason})${moved}`;
}

export function formatWaiver(finding: Finding): string {
  const waiver = finding.waiver;
  if (!waiver) return finding.severity === 'off' && finding.kind !== 'conformant' ? 'accepted: severity off in the policy' : '';
  const ticket = waiver.ticket ? `${waiver.ticket}: ` : '';
  return waiver.expired ? `waiver ${ticket}expired ${waiver.expires}` : `waived (${ticket}${waiver.reason}, until ${waiver.expires})`;
}

export function formatVerdict(view: ReportView): string {
  const notUp = view.hostFindings.length;
  const hosts = notUp === 0 ? '' : `${notUp} host${notUp === 1 ? '' : 's'} not judged (not up)`;
  const findings =
    view.findingsExitCode === undefined
      ? 'no conformance check (scan without --matrix)'
      : view.failOn === 'never'
        ? 'report only (--fail-on never)'
        : view.findingsExitCode === 0
          ? `${notUp > 0 ? 'the judged hosts are ' : ''}conformant at --fail-on ${view.failOn}`
          : `NOT conformant at --fail-on ${view.failOn}`;
  return hosts === '' ? findings : `${hosts} · ${findings}`;
}

/** A host's status for the reports: "up", or "down (no answer to any probe ...)". */
export function formatHostStatus(host: Pick<HostScan, 'status'>): string {
  return host.status.state === 'up' && !host.status.assumed ? 'up' : `${host.status.state} (${describeHostStatus(host.status)})`;
}

/** Every planned port of a host by state, listed and folded. */
/**
 * How a host is named in every report: its address (the key), with the name it was resolved
 * from beside it. A CIDR member is just its address; the block stays in the parameters.
 */
export function describeHost(host: Pick<HostScan, 'address' | 'name'>): string {
  return host.name === undefined ? host.address : `${host.address} (${host.name})`;
}

export function countStates(host: HostScan): Record<PortState, number> {
  const counts: Record<PortState, number> = { open: 0, closed: 0, filtered: 0, 'open|filtered': 0 };
  for (const observation of host.observations) counts[observation.state] += 1;
  for (const folded of host.folded) counts[folded.state] += folded.count;
  return counts;
}

/** nmap's line for folded ports: "Not shown: 65466 filtered tcp ports (no-response), 66 filtered tcp ports (icmp-admin-prohibited)"; '' when nothing is folded. */
export function formatFolded(host: HostScan): string {
  const parts = host.folded.filter((entry) => entry.count > 0).map((entry) => `${entry.count} ${entry.state} ${entry.transport} port${entry.count === 1 ? '' : 's'} (${entry.reason})`);
  return parts.length === 0 ? '' : `Not shown: ${parts.join(', ')}`;
}
