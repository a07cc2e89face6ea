/**
 * What every drift renderer shows, computed once from a Drift: totals, and per changed host
 * its lines in a fixed order (ports, findings appeared / resolved / changed). Renderers only
 * lay this out, each escaping for its medium. Pure.
 */
import type { Finding } from '../../conformance/model.js';
import type { Drift, FindingChange, HostDrift, ServiceChange, ServiceSeen } from '../../conformance/drift.js';
import type { SincePrevious } from '../../result/model.js';
import { formatTlsVersion } from '../../conformance/services.js';
import { formatPort, KIND_TITLES } from '../view.js';

export const DRIFT_SCHEMA_ID = 'portmatrix/drift';
export const DRIFT_SCHEMA_VERSION = 1;

export interface DriftTotals {
  hosts: number;
  hostsAdded: number;
  hostsRemoved: number;
  hostsChanged: number;
  portsChanged: number;
  findingsAppeared: number;
  findingsResolved: number;
  findingsChanged: number;
  waiversExpired: number;
  servicesChanged: number;
}

export function countDrift(drift: Drift): DriftTotals {
  const sum = (pick: (host: HostDrift) => number): number => drift.hosts.reduce((total, host) => total + pick(host), 0);
  return {
    hosts: drift.hosts.length,
    hostsAdded: drift.hosts.filter((host) => host.status === 'added').length,
    hostsRemoved: drift.hosts.filter((host) => host.status === 'removed').length,
    hostsChanged: drift.hosts.filter((host) => host.status === 'changed').length,
    portsChanged: sum((host) => host.ports.length),
    findingsAppeared: sum((host) => host.appeared.length),
    findingsResolved: sum((host) => host.resolved.length),
    findingsChanged: sum((host) => host.changed.length),
    waiversExpired: sum((host) => host.changed.filter((change) => change.changes.includes('waiver-expired')).length),
    servicesChanged: sum((host) => host.services.length),
  };
}

/** "3 of 6 hosts changed (1 added); 2 ports changed; findings: 1 appeared, 1 resolved, 0 changed" */
export function formatDriftSummary(drift: Drift): string {
  const totals = countDrift(drift);
  if (drift.equal) return `no change on ${totals.hosts} host${totals.hosts === 1 ? '' : 's'}`;
  const hostParts = [totals.hostsAdded > 0 ? `${totals.hostsAdded} added` : '', totals.hostsRemoved > 0 ? `${totals.hostsRemoved} removed` : ''].filter(Boolean);
  const changedHosts = totals.hostsChanged + totals.hostsAdded + totals.hostsRemoved;
  return [
    `${changedHosts} of ${totals.hosts} host${totals.hosts === 1 ? '' : 's'} changed${hostParts.length > 0 ? ` (${hostParts.join(', ')})` : ''}`,
    `${totals.portsChanged} port${totals.portsChanged === 1 ? '' : 's'} changed state`,
    `findings: ${totals.findingsAppeared} appeared, ${totals.findingsResolved} resolved, ${totals.findingsChanged} changed${totals.waiversExpired > 0 ? ` (${totals.waiversExpired} by an expired waiver)` : ''}`,
    ...(totals.servicesChanged > 0 ? [`${totals.servicesChanged} service${totals.servicesChanged === 1 ? '' : 's'} changed (certificate, TLS or protocol)`] : []),
  ].join('; ');
}

export function formatRun(side: Drift['before']): string {
  return `${side.startedAt}${side.matrices.length > 0 ? ` (${side.matrices.join(', ')})` : ''}`;
}

/** One line of a finding: "error extra-listener tcp/31337: <message>" (the message is untrusted only through banners, escaped by the caller). */
export function describeFinding(finding: Finding): { severity: string; kind: string; port: string; message: string } {
  return { severity: finding.severity, kind: KIND_TITLES[finding.kind], port: formatPort(finding.transport, finding.port), message: finding.message };
}

export function describeChange(change: FindingChange): string {
  const parts: string[] = [];
  if (change.changes.includes('severity')) parts.push(`severity ${change.before.severity} -> ${change.after.severity}`);
  if (change.changes.includes('observed')) parts.push(`observed ${change.before.observed} -> ${change.after.observed} (${change.after.reason})`);
  if (change.changes.includes('waiver-expired') && change.after.waiver) {
    parts.push(`waiver${change.after.waiver.ticket ? ` ${change.after.waiver.ticket}` : ''} expired ${change.after.waiver.expires}`);
  }
  return parts.join('; ');
}

function describeCertificate(certificate: ServiceSeen['certificate']): string {
  return certificate ? `${certificate.subject} (until ${certificate.notAfter.slice(0, 10)}, SHA-256 ${certificate.fingerprint256.slice(0, 11)}…)` : 'none';
}

/** "certificate CN=a (until 2026-12-11, SHA-256 AA:BB:CC:DD…) -> CN=b (...); TLS versions TLS 1.2, TLS 1.3 -> TLS 1.0" */
export function describeServiceChange(change: ServiceChange): string {
  const versions = (seen: ServiceSeen): string => (seen.tlsVersions && seen.tlsVersions.length > 0 ? seen.tlsVersions.map(formatTlsVersion).join(', ') : 'none');
  const parts: string[] = [];
  if (change.changes.includes('certificate')) parts.push(`certificate ${describeCertificate(change.before.certificate)} -> ${describeCertificate(change.after.certificate)}`);
  if (change.changes.includes('tls-versions')) parts.push(`TLS versions ${versions(change.before)} -> ${versions(change.after)}`);
  if (change.changes.includes('protocol')) parts.push(`answers ${change.before.protocolSeen ?? 'nothing'} -> ${change.after.protocolSeen ?? 'nothing'}`);
  return parts.join('; ');
}

/** Hosts with something to show, in the drift's order. */
/** A host's heading status: "changed", or "changed: host up -> down" when the host was not up in a run. */
export function formatHostDrift(host: HostDrift): string {
  return host.hostState ? `${host.status}: host ${host.hostState.before} -> ${host.hostState.after}, ports not compared` : host.status;
}

export function changedHosts(drift: Drift): HostDrift[] {
  return drift.hosts.filter((host) => host.status !== 'unchanged');
}

export interface FindingChangeRow {
  change: 'appeared' | 'resolved' | 'changed';
  finding: Finding;
  /** The finding's message, or for a changed finding what changed. */
  detail: string;
}

/** A host's finding changes as rows of one table: appeared, resolved, changed. */
export function findingChangeRows(host: HostDrift): FindingChangeRow[] {
  return [
    ...host.appeared.map((finding) => ({ change: 'appeared' as const, finding, detail: finding.message })),
    ...host.resolved.map((finding) => ({ change: 'resolved' as const, finding, detail: finding.message })),
    ...host.changed.map((change) => ({ change: 'changed' as const, finding: change.after, detail: describeChange(change) })),
  ];
}

/** The heading of a run's "since the previous run" section, and what to say when the matrices differ. */
export function describeSincePrevious(since: SincePrevious): { title: string; note?: string } {
  const title = `Since the previous run (${since.drift.before.startedAt}, ${since.source})`;
  return since.matrixChanged ? { title, note: describeMatrixChange('The previous run', since.matrixChanged) } : { title };
}

/** What a "since the previous run" section says when the previous run (or one host of it) was judged against another matrix. */
export function describeMatrixChange(subject: string, { before, after }: { before: string; after: string }): string {
  return after === 'no matrix'
    ? `${subject} was judged against ${before}; this run has no matrix: only ports are compared.`
    : `${subject} was judged against ${before}: its ports are judged again against ${after} here, so only what changed on the host shows.`;
}
