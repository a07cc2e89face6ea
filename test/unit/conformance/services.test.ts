import { describe, expect, it } from 'vitest';
import type { ServiceCheck, TlsVersion } from '../../../src/checks/model.js';
import { checkConformance } from '../../../src/conformance/diff.js';
import { parsePolicyText } from '../../../src/conformance/policy-file.js';
import { rejudgeResult } from '../../../src/conformance/rejudge.js';
import type { Expectation } from '../../../src/matrix/expectation.js';
import type { HostScan } from '../../../src/model/port-state.js';
import type { ScanResult } from '../../../src/result/model.js';

const NOW = new Date('2026-06-01T00:00:00Z');

function row(id: string, port: number, protocol: string): Expectation {
  return {
    transport: 'tcp', start: port, end: port, state: 'open', optional: false, dynamic: false, internal: false, protocol, component: 'core', description: '',
    ref: { matrix: 'm', document: 'd', rowId: id, table: 'T', row: id },
  };
}

const expectations = [row('web', 443, 'TCP/HTTPS'), row('mgmt', 8443, 'TCP/HTTPS'), row('ssh', 22, 'TCP/SSH')];
const host: HostScan = {
  target: '198.18.0.2', address: '198.18.0.2', family: 4, plan: { tcp: '22,443,8443', udp: '' }, folded: [], complete: true, status: { state: 'up', reason: 'port-answered' },
  observations: [22, 443, 8443].map((port) => ({ transport: 'tcp' as const, port, state: 'open' as const, reason: 'syn-ack' as const, rttMs: 1, attempts: 1 })),
};

function tlsCheck(port: number, rowId: string, notAfter: string, versions: TlsVersion[]): ServiceCheck {
  return {
    host: '198.18.0.2', transport: 'tcp', port, check: 'https', basis: 'documented', rowIds: [rowId], documentedProtocol: 'TCP/HTTPS', outcome: 'answered',
    protocolSeen: 'https', connections: 2, durationMs: 5,
    tls: {
      version: versions[versions.length - 1]!, cipher: 'TLS_AES_128_GCM_SHA256', versionsOffered: versions,
      certificate: { subject: 'CN=ipo', issuer: 'CN=Avaya CA', subjectAltNames: ['IP Address:198.18.0.2'], selfSigned: false, notBefore: '2025-01-01T00:00:00.000Z', notAfter, serialNumber: '01', fingerprint256: 'AA', matchesHost: true },
    },
  };
}

const services: ServiceCheck[] = [
  tlsCheck(443, 'web', '2026-06-11T00:00:00.000Z', ['TLSv1.1', 'TLSv1.2']),
  tlsCheck(8443, 'mgmt', '2027-06-01T00:00:00.000Z', ['TLSv1.2', 'TLSv1.3']),
  { host: '198.18.0.2', transport: 'tcp', port: 22, check: 'ssh', basis: 'documented', rowIds: ['ssh'], outcome: 'mismatch', banner: 'HTTP/1.1 400 Bad Request', detail: 'expected an SSH identification string', connections: 2, durationMs: 3 },
];

function deviations(policyText?: string): string[] {
  const findings = checkConformance({ expectations, hosts: [host], services, now: NOW, ...(policyText ? { policy: parsePolicyText(policyText, 'p.yaml') } : {}) });
  return findings.filter((finding) => finding.kind !== 'conformant').map((finding) => `${finding.port} ${finding.kind} ${finding.severity} ${finding.ref?.rowId}`).sort();
}

describe('service findings', () => {
  it('judge TLS against the floor, certificates against the expiry window, and cite the row', () => {
    expect(deviations()).toEqual(['22 service-mismatch error ssh', '443 certificate-expiring warning web', '443 tls-below-floor warning web']);
  });

  it('take the floor, the window and the severities from the policy file', () => {
    const policy = 'checks: { tlsFloor: "1.3", certificateExpiryDays: 5 }\nseverities: { service-mismatch: warning }\n';
    expect(deviations(policy)).toEqual(['22 service-mismatch warning ssh', '443 tls-below-floor warning web', '8443 tls-below-floor warning mgmt']);
  });

  it('an expired certificate is an error; a policy with a bad floor is refused with its place', () => {
    const expired = checkConformance({ expectations, hosts: [host], services, now: new Date('2026-07-01T00:00:00Z') });
    expect(expired.find((finding) => finding.kind === 'certificate-expired')).toMatchObject({ port: 443, severity: 'error', message: expect.stringContaining('expired on 2026-06-11') });
    expect(() => parsePolicyText('checks: { tlsFloor: "1.4" }\n', 'p.yaml')).toThrow(/p\.yaml:1:\d+: checks\.tlsFloor: expected a TLS version/);
  });
});

describe('a saved result judged again (portmatrix report --policy/--fail-on)', () => {
  it('keeps the service findings, judged under the new policy', () => {
    // Only what re-judging reads: the hosts, what the checks saw, the expectations it was judged against.
    const saved = { hosts: [host], checks: { services }, conformance: { expectations, findings: [], hostFindings: [], failOn: 'error' } } as unknown as ScanResult;
    const policy = parsePolicyText('severities: { service-mismatch: warning }\n', 'p.yaml');
    const rejudged = rejudgeResult(saved, { policy, strict: false, failOn: 'error', now: NOW });
    const seen = (rejudged.conformance?.findings ?? []).filter((finding) => finding.kind !== 'conformant').map((finding) => `${finding.port} ${finding.kind} ${finding.severity}`).sort();
    expect(seen).toEqual(['22 service-mismatch warning', '443 certificate-expiring warning', '443 tls-below-floor warning']);
  });
});
