/**
 * Drift between two runs, as data (ndiff's idea): which hosts appeared or vanished, which
 * ports changed state, which findings appeared, were resolved, or changed severity, and which
 * waivers expired in between. Renderers decide how to show it. Pure.
 *
 * A run is anything with hosts and findings: one scan result, or every host of a fleet audit
 * (each host judged against its own matrix), so one drift serves `scan --baseline`, history
 * and `portmatrix diff` of scans and audits alike.
 */
import { createPortLookup } from '../model/host-ports.js';
import { type HostScan, type HostState, type Observation, type PortState, portKey, type Transport } from '../model/port-state.js';
import type { CertificateSeen, CheckOutcome, ServiceCheck, TlsVersion } from '../checks/model.js';
import { compareText } from './diff.js';
import type { Finding } from './model.js';

export interface PortChange {
  transport: Transport;
  port: number;
  /** null: the port was not scanned in that run. */
  before: PortState | null;
  after: PortState | null;
}

export interface FindingChange {
  before: Finding;
  after: Finding;
  /** What changed: severity (policy, waiver expiry), observed state, a waiver that expired in between. */
  changes: ('severity' | 'observed' | 'waiver-expired')[];
}

/** What a service check saw, as far as a drift compares it. */
export interface ServiceSeen {
  check: string;
  outcome: CheckOutcome;
  protocolSeen?: string;
  tlsVersions?: TlsVersion[];
  certificate?: Pick<CertificateSeen, 'subject' | 'issuer' | 'notAfter' | 'fingerprint256'>;
}

/** A checked port whose service changed between two runs that both checked it. */
export interface ServiceChange {
  port: number;
  /** certificate: another certificate (by SHA-256), or one appeared or went; tls-versions: the versions accepted; protocol: what answered. */
  changes: ('certificate' | 'tls-versions' | 'protocol')[];
  before: ServiceSeen;
  after: ServiceSeen;
}

export interface HostDrift {
  /** The host's address: runs are matched host by host, never by the target text (a block is many hosts). */
  address: string;
  /** The host name the address was resolved from (the later run's, else the earlier's). */
  name?: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  /** When the host was not up in either run: its state in both (a host that was not there is not drift of its ports). */
  hostState?: { before: HostState; after: HostState };
  ports: PortChange[];
  appeared: Finding[];
  resolved: Finding[];
  changed: FindingChange[];
  /** Service checks (src/checks/) whose certificate, TLS versions or protocol changed. */
  services: ServiceChange[];
}

export interface DriftRun {
  startedAt: string;
  /** The matrices the run was judged against ("ip-office-9.1", or several for an audit). */
  matrices: string[];
  hosts: HostScan[];
  /** Every finding of the run (conformant ones are ignored). */
  findings: Finding[];
  /** What the run's service checks saw. */
  services: ServiceCheck[];
}

export interface Drift {
  before: { startedAt: string; matrices: string[] };
  after: { startedAt: string; matrices: string[] };
  /** True when nothing in ports or findings changed (ndiff's exit 0). */
  equal: boolean;
  hosts: HostDrift[];
}

/** What drift reads of a scan result (src/result/ScanResult is one), named here so conformance never imports the result stage above it. */
export interface ResultForDrift {
  startedAt: string;
  hosts: HostScan[];
  conformance?: { matrix: { id: string }; findings: Finding[] };
  checks?: { services: ServiceCheck[] };
}

/** A scan result as a run to diff. */
export function driftRunOf(result: ResultForDrift): DriftRun {
  return {
    startedAt: result.startedAt,
    matrices: result.conformance ? [result.conformance.matrix.id] : [],
    hosts: result.hosts,
    findings: result.conformance?.findings ?? [],
    services: result.checks?.services ?? [],
  };
}

export function diffResults(before: ResultForDrift, after: ResultForDrift): Drift {
  return diffRuns(driftRunOf(before), driftRunOf(after));
}

export function diffRuns(before: DriftRun, after: DriftRun): Drift {
  const addresses = [...new Set([...before.hosts.map((host) => host.address), ...after.hosts.map((host) => host.address)])];
  const hosts = addresses.map((address) => {
    const old = before.hosts.find((host) => host.address === address);
    const now = after.hosts.find((host) => host.address === address);
    const services = diffServices(
      before.services.filter((check) => check.host === address),
      after.services.filter((check) => check.host === address),
    );
    return diffHost(address, old, now, findingsOf(before, address), findingsOf(after, address), services);
  });
  return {
    before: { startedAt: before.startedAt, matrices: before.matrices },
    after: { startedAt: after.startedAt, matrices: after.matrices },
    equal: hosts.every((host) => host.status === 'unchanged'),
    hosts,
  };
}

function findingsOf(run: DriftRun, address: string): Finding[] {
  return run.findings.filter((finding) => finding.host === address && finding.kind !== 'conformant');
}

/** A finding is "the same" across runs when it is the same kind on the same port and row. */
function identity(finding: Finding): string {
  return `${finding.kind} ${finding.transport}/${finding.port} ${finding.ref?.rowId ?? ''}`;
}

function diffHost(
  address: string,
  old: HostScan | undefined,
  now: HostScan | undefined,
  oldFindings: Finding[],
  newFindings: Finding[],
  services: ServiceChange[],
): HostDrift {
  const name = now?.name ?? old?.name;
  const hostId = { address, ...(name === undefined ? {} : { name }) };
  if (old && now && (old.status.state !== 'up' || now.status.state !== 'up')) {
    // A down or unreachable run says nothing about the ports: only the host's state is compared.
    const status = old.status.state === now.status.state ? 'unchanged' : 'changed';
    return { ...hostId, status, hostState: { before: old.status.state, after: now.status.state }, ports: [], appeared: [], resolved: [], changed: [], services: [] };
  }
  const ports = diffPorts(old, now);
  const oldById = new Map(oldFindings.map((finding) => [identity(finding), finding]));
  const newById = new Map(newFindings.map((finding) => [identity(finding), finding]));
  const appeared = newFindings.filter((finding) => !oldById.has(identity(finding)));
  const resolved = oldFindings.filter((finding) => !newById.has(identity(finding)));
  const changed: FindingChange[] = [];
  for (const [id, after] of newById) {
    const previous = oldById.get(id);
    if (!previous) continue;
    const changes: FindingChange['changes'] = [];
    if (previous.severity !== after.severity) changes.push('severity');
    if (previous.observed !== after.observed) changes.push('observed');
    if (after.waiver?.expired === true && previous.waiver !== undefined && previous.waiver.expired !== true) changes.push('waiver-expired');
    if (changes.length > 0) changed.push({ before: previous, after, changes });
  }
  const status = !old ? 'added' : !now ? 'removed' : ports.length + appeared.length + resolved.length + changed.length + services.length > 0 ? 'changed' : 'unchanged';
  return { ...hostId, status, ports, appeared, resolved, changed, services };
}

function serviceSeen(check: ServiceCheck): ServiceSeen {
  const certificate = check.tls?.certificate;
  return {
    check: check.check,
    outcome: check.outcome,
    ...(check.protocolSeen === undefined ? {} : { protocolSeen: check.protocolSeen }),
    ...(check.tls ? { tlsVersions: check.tls.versionsOffered } : {}),
    ...(certificate
      ? { certificate: { subject: certificate.subject, issuer: certificate.issuer, notAfter: certificate.notAfter, fingerprint256: certificate.fingerprint256 } }
      : {}),
  };
}

/** Ports checked in both runs whose certificate, TLS versions or answering protocol differ; a port checked once says nothing. */
function diffServices(old: readonly ServiceCheck[], now: readonly ServiceCheck[]): ServiceChange[] {
  const changes: ServiceChange[] = [];
  for (const check of now) {
    const previous = old.find((candidate) => candidate.port === check.port);
    if (!previous) continue;
    const [before, after] = [serviceSeen(previous), serviceSeen(check)];
    const what: ServiceChange['changes'] = [];
    if (before.certificate?.fingerprint256 !== after.certificate?.fingerprint256) what.push('certificate');
    if ((before.tlsVersions ?? []).join() !== (after.tlsVersions ?? []).join()) what.push('tls-versions');
    if (before.protocolSeen !== after.protocolSeen) what.push('protocol');
    if (what.length > 0) changes.push({ port: check.port, changes: what, before, after });
  }
  return changes.sort((a, b) => a.port - b.port);
}

/** Ports whose state differs; folded ports count with their folded state, unscanned ones as null. */
function diffPorts(old: HostScan | undefined, now: HostScan | undefined): PortChange[] {
  const before = stateLookup(old);
  const after = stateLookup(now);
  const listed = new Map<string, Observation>();
  for (const observation of [...(old?.observations ?? []), ...(now?.observations ?? [])]) listed.set(portKey(observation.transport, observation.port), observation);
  const changes: PortChange[] = [];
  for (const { transport, port } of listed.values()) {
    const change = { transport, port, before: before(transport, port), after: after(transport, port) };
    if (change.before !== change.after) changes.push(change);
  }
  return changes.sort((a, b) => compareText(a.transport, b.transport) || a.port - b.port);
}

/** A port's state in one run, listed or folded (null: not scanned there); the lookup is built once per host, not per port. */
function stateLookup(host: HostScan | undefined): (transport: Transport, port: number) => PortState | null {
  if (!host) return () => null;
  const lookup = createPortLookup(host);
  return (transport, port) => lookup(transport, port)?.state ?? null;
}
