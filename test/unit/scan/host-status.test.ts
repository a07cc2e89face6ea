import { describe, expect, it } from 'vitest';
import { checkConformance, checkHostStatus, verdictExitCode } from '../../../src/conformance/diff.js';
import { diffResults } from '../../../src/conformance/drift.js';
import { RENDERERS } from '../../../src/report/index.js';
import { decideHostStatus, noRouteStatus } from '../../../src/scan/host-status.js';
import type { FoldedPorts, HostScan, Observation, Reason } from '../../../src/model/port-state.js';
import { buildResult, conformantHost, driftedHost } from '../conformance/sample.js';

const seen = (reason: Reason, state: Observation['state'] = 'filtered'): Observation => ({ transport: 'tcp', port: 80, state, reason, rttMs: null, attempts: 1 });
const folded = (reason: Reason, count = 100): FoldedPorts => ({ transport: 'tcp', state: 'filtered', reason, count });

describe('decideHostStatus', () => {
  it.each<[string, Observation[], FoldedPorts[], string]>([
    ['one open port among silence', [seen('syn-ack', 'open')], [folded('no-response')], 'up port-answered'],
    ['one closed port (RST) among silence', [seen('conn-refused', 'closed')], [folded('no-response')], 'up port-answered'],
    ['a closed UDP port only', [{ ...seen('icmp-port-unreach', 'closed'), transport: 'udp' }], [], 'up port-answered'],
    ['the host firewall rejects (ICMP code read)', [], [folded('icmp-admin-prohibited')], 'up port-answered'],
    ['EHOSTUNREACH beside an answer (REJECT seen unprivileged)', [seen('conn-refused', 'closed')], [folded('host-unreach')], 'up port-answered'],
    ['nothing answered', [], [folded('no-response', 65535)], 'down no-response'],
    ['no ARP answer', [], [folded('host-unreach', 65535)], 'down host-unreach'],
    ['network unreachable', [], [folded('net-unreach', 65535)], 'unreachable net-unreach'],
    ['a local firewall refused to send', [seen('send-denied')], [folded('no-response')], 'unreachable send-denied'],
    ['no port at all', [], [], 'down no-response'],
  ])('%s', (_what, observations, foldedPorts, expected) => {
    const status = decideHostStatus({ observations, folded: foldedPorts });
    expect(`${status.state} ${status.reason}`).toBe(expected);
  });

  it('--assume-up judges a silent host as up and keeps the evidence', () => {
    expect(decideHostStatus({ observations: [], folded: [folded('no-response')] }, { assumeUp: true })).toEqual({ state: 'up', reason: 'no-response', assumed: true });
    expect(decideHostStatus({ observations: [seen('syn-ack', 'open')], folded: [] }, { assumeUp: true })).toEqual({ state: 'up', reason: 'port-answered' });
    expect(noRouteStatus()).toEqual({ state: 'unreachable', reason: 'no-route' });
  });

  it('exit 3 when any host is not up, whatever the findings', () => {
    const down: HostScan = { ...conformantHost(), address: '198.18.7.1', observations: [], folded: [], status: { state: 'down', reason: 'no-response' } };
    expect(verdictExitCode(buildResult({ hosts: [driftedHost()] }))).toBe(1);
    expect(verdictExitCode(buildResult({ hosts: [conformantHost(), down] }))).toBe(3);
    expect(verdictExitCode(buildResult({ hosts: [driftedHost(), down] }))).toBe(3);
  });
});

describe('a host that is not up', () => {
  const silent = (): HostScan => ({
    ...conformantHost(),
    observations: [],
    folded: [{ transport: 'tcp', state: 'filtered', reason: 'no-response', count: 65535 }],
    status: { state: 'down', reason: 'no-response' },
  });

  it('gets one host finding and no port findings; the up host beside it is judged', () => {
    const hosts = [silent(), { ...driftedHost(), address: '198.18.0.9' }];
    const findings = checkConformance({ expectations: buildResult({ hosts: [] }).conformance!.expectations, hosts });
    expect(findings.some((finding) => finding.host === '198.18.0.2')).toBe(false);
    expect(findings.some((finding) => finding.host === '198.18.0.9' && finding.kind === 'missing-listener')).toBe(true);
    expect(checkHostStatus(hosts)).toEqual([
      { kind: 'host-not-up', severity: 'error', host: '198.18.0.2', status: { state: 'down', reason: 'no-response' }, message: expect.stringMatching(/^host down: no answer to any probe/) },
    ]);
  });

  it('every report format says so, and none lists a missing listener for it', () => {
    const result = buildResult({ hosts: [silent()] });
    expect(result.conformance!.findings).toEqual([]);
    expect(RENDERERS.table(result)).toMatch(/Host 198\.18\.0\.2 \(pbx-ok\.example\.test\): down \(no answer to any probe/);
    expect(RENDERERS.table(result)).toMatch(/Result: 1 host not judged \(not up\)/);
    expect(RENDERERS.table(result)).not.toMatch(/Missing listener/);
    expect(RENDERERS.markdown(result)).toMatch(/## Hosts not judged \(1\)\n\n\| Severity \| Host \| Status \| Detail \|\n\| --- \| --- \| --- \| --- \|\n\| error \| 198\.18\.0\.2 [^|]*pbx-ok[^|]* \| down \|/);
    expect(RENDERERS.html(result)).toMatch(/<table id="hosts-not-up">.*<td>198\.18\.0\.2 \(pbx-ok\.example\.test\)<\/td><td>down<\/td>/s);
    expect(RENDERERS.html(result)).toContain('class="verdict fail"');
    const junit = RENDERERS.junit(result);
    expect(junit).toMatch(/tests="1" failures="0" errors="1"/);
    expect(junit).toMatch(/<testcase classname="portmatrix\.ip-office-9\.1\.198_18_0_2\.host" name="host status" time="0">\s*<error type="host-not-up"/);
    expect(RENDERERS['nmap-xml'](result)).toMatch(/<status state="down" reason="no-response" reason_ttl="0"\/>/);
    expect(RENDERERS['nmap-xml'](result)).toMatch(/<hosts up="0" down="1" total="1"\/>/);
    expect(JSON.parse(RENDERERS.json(result)).conformance.hostFindings).toHaveLength(1);
  });

  it('is never drift: a run where the host was down compares the host state, not its ports', () => {
    const drift = diffResults(buildResult({ hosts: [conformantHost()] }), buildResult({ hosts: [silent()] }));
    expect(drift.hosts).toEqual([
      { address: '198.18.0.2', name: 'pbx-ok.example.test', status: 'changed', hostState: { before: 'up', after: 'down' }, ports: [], appeared: [], resolved: [], changed: [], services: [] },
    ]);
  });
});
