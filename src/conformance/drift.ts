/**
 * Drift between two runs, as data (ndiff's idea): which hosts appeared or vanished, which
 * ports changed state, which findings appeared, were resolved, or changed severity.
 * Renderers decide how to show it. Pure.
 */
import { parsePortSpec, rangesContain } from '../matrix/port-spec.js';
import type { ScanResult } from '../result/model.js';
import { findFoldedState } from '../scan/fold.js';
import type { HostScan, PortState, Transport } from '../scan/model.js';
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
  /** What changed: severity (policy, waiver expiry), observed state, or both. */
  changes: ('severity' | 'observed')[];
}

export interface HostDrift {
  target: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  ports: PortChange[];
  appeared: Finding[];
  resolved: Finding[];
  changed: FindingChange[];
}

export interface Drift {
  before: { startedAt: string; matrix?: string };
  after: { startedAt: string; matrix?: string };
  /** True when nothing in ports or findings changed (ndiff's exit 0). */
  equal: boolean;
  hosts: HostDrift[];
}

export function diffResults(before: ScanResult, after: ScanResult): Drift {
  const targets = [...new Set([...before.hosts.map((host) => host.target), ...after.hosts.map((host) => host.target)])];
  const hosts = targets.map((target) => {
    const old = before.hosts.find((host) => host.target === target);
    const now = after.hosts.find((host) => host.target === target);
    return diffHost(target, old, now, findingsOf(before, target), findingsOf(after, target));
  });
  return {
    before: { startedAt: before.startedAt, ...(before.conformance ? { matrix: before.conformance.matrix.id } : {}) },
    after: { startedAt: after.startedAt, ...(after.conformance ? { matrix: after.conformance.matrix.id } : {}) },
    equal: hosts.every((host) => host.status === 'unchanged'),
    hosts,
  };
}

function findingsOf(result: ScanResult, target: string): Finding[] {
  return (result.conformance?.findings ?? []).filter((finding) => finding.host === target && finding.kind !== 'conformant');
}

/** A finding is "the same" across runs when it is the same kind on the same port and row. */
function identity(finding: Finding): string {
  return `${finding.kind} ${finding.transport}/${finding.port} ${finding.ref?.rowId ?? ''}`;
}

function diffHost(target: string, old: HostScan | undefined, now: HostScan | undefined, oldFindings: Finding[], newFindings: Finding[]): HostDrift {
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
    if (changes.length > 0) changed.push({ before: previous, after, changes });
  }
  const status = !old ? 'added' : !now ? 'removed' : ports.length + appeared.length + resolved.length + changed.length > 0 ? 'changed' : 'unchanged';
  return { target, status, ports, appeared, resolved, changed };
}

/** Ports whose state differs; folded ports count with their folded state, unscanned ones as null. */
function diffPorts(old: HostScan | undefined, now: HostScan | undefined): PortChange[] {
  const listed = (host: HostScan | undefined) => new Map((host?.observations ?? []).map((observation) => [`${observation.transport}/${observation.port}`, observation]));
  const oldPorts = listed(old);
  const newPorts = listed(now);
  const keys = [...new Set([...oldPorts.keys(), ...newPorts.keys()])];
  const changes: PortChange[] = [];
  for (const key of keys) {
    const sample = oldPorts.get(key) ?? newPorts.get(key);
    if (!sample) continue;
    const before = oldPorts.get(key)?.state ?? foldedState(old, sample.transport, sample.port);
    const after = newPorts.get(key)?.state ?? foldedState(now, sample.transport, sample.port);
    if (before !== after) changes.push({ transport: sample.transport, port: sample.port, before, after });
  }
  return changes.sort((a, b) => compareText(a.transport, b.transport) || a.port - b.port);
}

function foldedState(host: HostScan | undefined, transport: Transport, port: number): PortState | null {
  const plan = host?.plan[transport] ?? '';
  const parsed = plan === '' ? undefined : parsePortSpec(plan);
  if (!host || !parsed?.ok || !rangesContain(parsed.ranges, port)) return null;
  return findFoldedState(host.folded, transport)?.state ?? 'closed';
}

