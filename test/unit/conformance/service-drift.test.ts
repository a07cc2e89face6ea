import { describe, expect, it } from 'vitest';
import type { ServiceCheck } from '../../../src/checks/model.js';
import { diffResults } from '../../../src/conformance/drift.js';
import { DRIFT_RENDERERS } from '../../../src/report/drift/index.js';
import type { ScanResult } from '../../../src/result/model.js';
import { buildResult, conformantHost } from './sample.js';

function https(fingerprint256: string, notAfter: string, versionsOffered: ('TLSv1' | 'TLSv1.2' | 'TLSv1.3')[]): ServiceCheck {
  return {
    host: conformantHost().address, transport: 'tcp', port: 443, check: 'https', basis: 'documented', rowIds: ['ip-office-in-9'], outcome: 'answered',
    protocolSeen: 'https', connections: 3, durationMs: 4,
    tls: {
      version: versionsOffered[versionsOffered.length - 1]!, cipher: 'TLS_AES_128_GCM_SHA256', versionsOffered,
      certificate: { subject: 'CN=ipo', issuer: 'CN=CA', subjectAltNames: [], selfSigned: false, notBefore: '2025-01-01T00:00:00.000Z', notAfter, serialNumber: '1', fingerprint256, matchesHost: true },
    },
  };
}

function withChecks(services: ServiceCheck[]): ScanResult {
  return { ...buildResult({ hosts: [conformantHost()] }), checks: { mode: 'documented', services, durationMs: 10 } };
}

describe('service drift', () => {
  it('a renewed certificate and a changed TLS offer are a service change; an identical check is none', () => {
    const before = withChecks([https('AA:BB:CC:DD:EE', '2025-12-01T00:00:00.000Z', ['TLSv1.2', 'TLSv1.3'])]);
    expect(diffResults(before, before).equal).toBe(true);
    const after = withChecks([https('11:22:33:44:55', '2026-12-01T00:00:00.000Z', ['TLSv1'])]);
    const drift = diffResults(before, after);
    expect(drift.equal).toBe(false);
    expect(drift.hosts[0]?.services).toEqual([
      expect.objectContaining({ port: 443, changes: ['certificate', 'tls-versions'], before: expect.objectContaining({ certificate: expect.objectContaining({ fingerprint256: 'AA:BB:CC:DD:EE' }) }) }),
    ]);
    const table = DRIFT_RENDERERS.table(drift);
    expect(table).toContain('~ service tcp/443: certificate CN=ipo (until 2025-12-01, SHA-256 AA:BB:CC:DD…) -> CN=ipo (until 2026-12-01, SHA-256 11:22:33:44…); TLS versions TLS 1.2, TLS 1.3 -> TLS 1.0');
    expect(DRIFT_RENDERERS.markdown(drift)).toContain('| https | tcp/443 | certificate');
    expect(JSON.parse(DRIFT_RENDERERS.json(drift)).hosts[0].services[0].changes).toEqual(['certificate', 'tls-versions']);
  });

  it('a port checked in one run only is not a service change', () => {
    const drift = diffResults(withChecks([]), withChecks([https('AA', '2026-01-01T00:00:00.000Z', ['TLSv1.3'])]));
    expect(drift.hosts[0]?.services).toEqual([]);
  });
});
