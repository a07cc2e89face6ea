import { describe, expect, it } from 'vitest';
import { diffResults } from '../../../src/conformance/drift.js';
import { buildResult, conformantHost, driftedHost, hardenedHost } from './sample.js';

describe('diffResults', () => {
  it('says two identical runs are equal', () => {
    const drift = diffResults(buildResult({ hosts: [driftedHost()] }), buildResult({ hosts: [driftedHost()] }));
    expect(drift.equal).toBe(true);
    expect(drift.hosts.map((host) => host.status)).toEqual(['unchanged']);
  });

  it('lists port state changes and findings that appeared or were resolved', () => {
    const before = buildResult({ hosts: [conformantHost()] });
    const drifted = { ...driftedHost(), address: conformantHost().address };
    const after = buildResult({ hosts: [drifted] });
    const drift = diffResults(before, after);
    expect(drift.equal).toBe(false);
    const host = drift.hosts[0]!;
    expect(host.status).toBe('changed');
    expect(host.ports).toContainEqual({ transport: 'tcp', port: 443, before: 'open', after: 'closed' });
    expect(host.ports).toContainEqual({ transport: 'tcp', port: 8080, before: 'closed', after: 'open' });
    expect(host.ports).toContainEqual({ transport: 'udp', port: 161, before: 'open', after: 'open|filtered' });
    expect(host.appeared.map((finding) => finding.kind)).toContain('missing-listener');
    expect(host.appeared).toHaveLength(9);
    expect(host.resolved).toEqual([]);
    // And back: everything that appeared is resolved.
    expect(diffResults(after, before).hosts[0]!.resolved).toHaveLength(9);
  });

  it('reports hosts that appeared or vanished', () => {
    const drift = diffResults(buildResult({ hosts: [conformantHost()] }), buildResult({ hosts: [driftedHost()] }));
    expect(drift.hosts.map((host) => `${host.address} ${host.status}`)).toEqual(['198.18.0.2 removed', '198.18.0.6 added']);
  });

  it('notices a severity change of the same finding (e.g. a waiver that expired)', () => {
    const before = buildResult({ hosts: [driftedHost()] });
    const after = buildResult({ hosts: [driftedHost()], strict: true });
    const changed = diffResults(before, after).hosts[0]!.changed;
    expect(changed.find((change) => change.after.port === 23)).toMatchObject({ changes: ['severity'], before: { severity: 'warning' }, after: { severity: 'error' } });
  });
  it('compares a listed port with the folded state of the other run (filtered on a hardened host)', () => {
    const before = buildResult({ hosts: [conformantHost()] });
    const after = buildResult({ hosts: [{ ...hardenedHost(), address: conformantHost().address }] });
    const ports = diffResults(before, after).hosts[0]!.ports;
    // tcp/21 listed filtered before, folded filtered after: no change. tcp/23 was folded closed, now listed closed.
    expect(ports.filter((change) => change.transport === 'tcp' && [21, 23].includes(change.port))).toEqual([]);
    expect(ports).toEqual([]);
    // And the other way round, a port listed open before and folded after reads as filtered.
    const opened = { ...conformantHost(), observations: [...conformantHost().observations, { transport: 'tcp' as const, port: 8080, state: 'open' as const, reason: 'syn-ack' as const, rttMs: 0.3, attempts: 1 }] };
    expect(diffResults(buildResult({ hosts: [opened] }), after).hosts[0]!.ports).toEqual([{ transport: 'tcp', port: 8080, before: 'open', after: 'filtered' }]);
  });
});
