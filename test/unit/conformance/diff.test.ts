import { describe, expect, it } from 'vitest';
import { checkConformance } from '../../../src/conformance/diff.js';
import type { Finding } from '../../../src/conformance/model.js';
import type { Expectation } from '../../../src/matrix/expectation.js';
import type { HostScan } from '../../../src/model/port-state.js';
import { conformantHost, driftedHost, EXPECTATIONS, hardenedHost, NOW } from './sample.js';

function deviations(findings: Finding[]): string[] {
  return findings
    .filter((finding) => finding.kind !== 'conformant')
    .map((finding) => `${finding.kind} ${finding.transport}/${finding.port} ${finding.severity} ${finding.ref?.rowId ?? '-'}`);
}

describe('checkConformance', () => {
  it('finds nothing but conformant entries on a host that matches the matrix', () => {
    const findings = checkConformance({ expectations: EXPECTATIONS, hosts: [conformantHost()], now: NOW });
    expect(deviations(findings)).toEqual([]);
    // One entry per scanned, non-dynamic expected port, so a report can draw the whole map.
    expect(findings).toHaveLength(EXPECTATIONS.filter((expectation) => !expectation.dynamic).length);
    expect(findings.every((finding) => finding.severity === 'off' && finding.ref !== undefined)).toBe(true);
  });

  it('reports each injected deviation once, with its kind, default severity and row', () => {
    const findings = checkConformance({ expectations: EXPECTATIONS, hosts: [driftedHost()], now: NOW });
    expect(deviations(findings)).toEqual([
      'filtered-port-reachable tcp/21 warning ipo-ftp',
      'optional-listener-enabled tcp/23 warning ipo-telnet',
      'missing-listener tcp/443 error ipo-https',
      'extra-listener tcp/8080 error -',
      'listener-moved tcp/50812 warning ipo-status',
      'internal-port-exposed tcp/50791 warning vmp-ipo',
      'udp-unconfirmed udp/161 notice ipo-snmp',
      'optional-listener-disabled udp/5060 notice ipo-sip',
      'dynamic-port-open udp/45000 notice ipo-rtp',
    ].sort((a, b) => order(a) - order(b)));
  });

  it('reports a moved listener on its row, not as one missing and one extra', () => {
    const findings = checkConformance({ expectations: EXPECTATIONS, hosts: [driftedHost()], now: NOW });
    const moved = findings.find((finding) => finding.kind === 'listener-moved');
    expect(moved).toMatchObject({ port: 50812, observed: 'closed', movedTo: { port: 50813, state: 'open' }, ref: { rowId: 'ipo-status' } });
    expect(findings.some((finding) => finding.port === 50813)).toBe(false);
    expect(findings.some((finding) => finding.kind === 'missing-listener' && finding.port === 50812)).toBe(false);
  });

  it('does not call a listener outside the configurable range moved', () => {
    const scan = driftedHost();
    scan.observations = scan.observations.map((observation) => (observation.port === 50813 ? { ...observation, port: 50950 } : observation));
    const findings = checkConformance({ expectations: EXPECTATIONS, hosts: [scan], now: NOW });
    expect(deviations(findings)).toContain('missing-listener tcp/50812 error ipo-status');
    expect(deviations(findings)).toContain('extra-listener tcp/50950 error -');
  });

  it('takes a wide configurable range ("1-65535") as moved only near the default port', () => {
    const wide = EXPECTATIONS.map((expectation) =>
      expectation.ref.rowId === 'ipo-status' ? { ...expectation, configurable: [{ start: 1, end: 65535 }] } : expectation,
    );
    const far = driftedHost();
    far.observations = far.observations.map((observation) => (observation.port === 50813 ? { ...observation, port: 31337 } : observation));
    const farFindings = deviations(checkConformance({ expectations: wide, hosts: [far], now: NOW }));
    expect(farFindings).toContain('missing-listener tcp/50812 error ipo-status');
    expect(farFindings).toContain('extra-listener tcp/31337 error -');
    const near = deviations(checkConformance({ expectations: wide, hosts: [driftedHost()], now: NOW }));
    expect(near).toContain('listener-moved tcp/50812 warning ipo-status');
    // tcp/8080 is an extra listener inside 1-65535 too, but far away: still extra.
    expect(near).toContain('extra-listener tcp/8080 error -');
  });

  it('does not flag an open port that another row documents as a listener', () => {
    // Voicemail Pro's intra-device row and an ingress row name the same port (as tcp/25 in IP Office 9.1).
    const rows: Expectation[] = [EXPECTATIONS[11]!, { ...EXPECTATIONS[0]!, start: 50791, end: 50791, ref: { ...EXPECTATIONS[0]!.ref, rowId: 'ingress-50791' } }];
    const findings = checkConformance({ expectations: rows, hosts: [driftedHost()], now: NOW });
    expect(findings.filter((finding) => finding.port === 50791).map((finding) => `${finding.kind} ${finding.ref?.rowId}`)).toEqual([
      'conformant ingress-50791',
      'conformant vmp-ipo',
    ]);
    expect(findings.find((finding) => finding.ref?.rowId === 'vmp-ipo')?.message).toContain('row ingress-50791 documents it as a listener');
  });

  it('never reports closed versus filtered by itself', () => {
    const scan = conformantHost();
    // A host firewall turns every closed port filtered: documented-filtered tcp/21 closed, and so on.
    scan.observations = scan.observations.map((observation) =>
      observation.port === 21 ? { ...observation, state: 'closed', reason: 'conn-refused' } : observation,
    );
    scan.folded = scan.folded.map((entry) => ({ ...entry, state: 'filtered', reason: 'no-response' }));
    expect(deviations(checkConformance({ expectations: EXPECTATIONS, hosts: [scan], now: NOW }))).toEqual([]);
  });

  it('treats folded ports as closed and unplanned ports as not scanned', () => {
    const scan: HostScan = { ...conformantHost(), plan: { tcp: '1-1024', udp: '' } };
    scan.observations = scan.observations.filter((observation) => observation.transport === 'tcp' && observation.port <= 1024 && observation.port !== 443);
    const findings = checkConformance({ expectations: EXPECTATIONS, hosts: [scan], now: NOW });
    expect(deviations(findings)).toEqual(['missing-listener tcp/443 error ipo-https']);
    // 5060, 5443, 7070, 50791, 50812 and every UDP port were outside the plan: no finding at all.
    expect(findings.map((finding) => finding.port).sort((a, b) => a - b)).toEqual([21, 23, 80, 443]);
  });

  it('does not report ports an incomplete host never reached', () => {
    const scan: HostScan = { ...conformantHost(), complete: false };
    scan.observations = scan.observations.filter((observation) => observation.port !== 443);
    expect(deviations(checkConformance({ expectations: EXPECTATIONS, hosts: [scan], now: NOW }))).toEqual([]);
  });

  it('accepts open or dark for a conditional row unless the policy says the condition holds', () => {
    const scan = conformantHost(); // tcp/7070 "Open if HA" is dark here
    const relaxed = checkConformance({ expectations: EXPECTATIONS, hosts: [scan], now: NOW });
    const ha = relaxed.find((finding) => finding.ref?.rowId === 'ipo-ha');
    expect(ha).toMatchObject({ kind: 'conformant', observed: 'closed' });
    expect(ha?.message).toContain('condition');
    const held = checkConformance({
      expectations: EXPECTATIONS,
      hosts: [scan],
      now: NOW,
      policy: { severities: {}, waivers: [], conditions: ['ipo-ha'] },
    });
    expect(deviations(held)).toEqual(['missing-listener tcp/7070 error ipo-ha']);
  });

  it('reports a documented-closed, non-optional port that is open as an extra listener on its row', () => {
    const rows: Expectation[] = [{ ...EXPECTATIONS[3]!, optional: false }];
    const scan: HostScan = { ...conformantHost(), observations: [{ transport: 'tcp', port: 23, state: 'open', reason: 'syn-ack', rttMs: 1, attempts: 1 }] };
    expect(deviations(checkConformance({ expectations: rows, hosts: [scan], now: NOW }))).toEqual(['extra-listener tcp/23 error ipo-telnet']);
  });

  it('keeps UDP open|filtered on a documented-dark or undocumented port out of the findings', () => {
    const scan = conformantHost();
    scan.observations.push({ transport: 'udp', port: 40000, state: 'open|filtered', reason: 'no-response', rttMs: null, attempts: 3 });
    scan.plan = { ...scan.plan, udp: `${scan.plan.udp},40000` };
    expect(deviations(checkConformance({ expectations: EXPECTATIONS, hosts: [scan], now: NOW }))).toEqual([]);
  });

  it('checks every host and cites the host on each finding', () => {
    const findings = checkConformance({ expectations: EXPECTATIONS, hosts: [conformantHost(), driftedHost()], now: NOW });
    const hosts = new Set(findings.filter((finding) => finding.kind !== 'conformant').map((finding) => finding.host));
    expect([...hosts]).toEqual(['198.18.0.6']);
    expect(findings[0]?.host).toBe('198.18.0.2');
  });
  it('reads an unlisted port of a hardened host as filtered, the state folded for its transport', () => {
    const scan = hardenedHost();
    expect(scan.observations.some((observation) => observation.port === 21)).toBe(false);
    const findings = checkConformance({ expectations: EXPECTATIONS, hosts: [scan], now: NOW });
    // Documented-filtered tcp/21 and conditional tcp/7070 are folded filtered; closed tcp/23 is listed.
    expect(findings.find((finding) => finding.port === 21)).toMatchObject({ kind: 'conformant', observed: 'filtered', reason: 'no-response' });
    expect(findings.find((finding) => finding.port === 7070)).toMatchObject({ kind: 'conformant', observed: 'filtered' });
    expect(findings.find((finding) => finding.port === 23)).toMatchObject({ kind: 'conformant', observed: 'closed', reason: 'conn-refused' });
    // The intra-device voicemail port is dark behind the firewall: conformant, seen filtered.
    expect(findings.find((finding) => finding.port === 50791)).toMatchObject({ kind: 'conformant', observed: 'filtered' });
    expect(deviations(findings)).toEqual([]);
    // The listener gone on the same hardened host: missing, observed filtered (not closed).
    const gone = { ...scan, observations: scan.observations.filter((observation) => !(observation.transport === 'tcp' && observation.port === 443)) };
    gone.folded = gone.folded.map((entry) => (entry.transport === 'tcp' ? { ...entry, count: entry.count + 1 } : entry));
    const missing = checkConformance({ expectations: EXPECTATIONS, hosts: [gone], now: NOW }).find((finding) => finding.port === 443);
    expect(missing).toMatchObject({ kind: 'missing-listener', observed: 'filtered', reason: 'no-response' });
  });
});

const ORDER = ['tcp/21 ', 'tcp/23 ', 'tcp/443 ', 'tcp/8080 ', 'tcp/50791 ', 'tcp/50812 ', 'udp/161 ', 'udp/5060 ', 'udp/45000 '];
function order(line: string): number {
  return ORDER.findIndex((prefix) => line.includes(` ${prefix}`));
}

describe('rows with a condition read from the document', () => {
  const ha: Expectation = {
    ...EXPECTATIONS[0]!,
    start: 7001,
    end: 7001,
    protocol: 'HA sync',
    condition: { kind: 'ha', text: 'Only used for HA switchover.' },
    ref: { ...EXPECTATIONS[0]!.ref, rowId: 'ipo-ha-sync', row: '90' },
  };
  const localhost: Expectation = {
    ...EXPECTATIONS[0]!,
    start: 7023,
    end: 7023,
    protocol: 'Telnet',
    condition: { kind: 'localhost-only', text: 'Open only for localhost.' },
    ref: { ...EXPECTATIONS[0]!.ref, rowId: 'ipo-local-telnet', row: '91' },
  };
  const expectations = [...EXPECTATIONS, ha, localhost];
  /** The conformant host, with tcp/7001 and tcp/7023 open or not. */
  function host(open: number[]): HostScan {
    const scan = conformantHost();
    for (const port of open) scan.observations.push({ transport: 'tcp', port, state: 'open', reason: 'syn-ack', rttMs: 1, attempts: 1 } as HostScan['observations'][number]);
    return scan;
  }
  const judge = (open: number[], options: { conditions?: string[]; strict?: boolean } = {}) =>
    deviations(
      checkConformance({
        expectations,
        hosts: [host(open)],
        now: NOW,
        ...(options.conditions ? { policy: { severities: {}, waivers: [], conditions: options.conditions } } : {}),
        ...(options.strict ? { strict: true } : {}),
      }),
    );

  it('absent and undeclared: conformant; present and undeclared: a notice naming the condition', () => {
    expect(judge([])).toEqual([]);
    expect(judge([7001])).toEqual(['conditional-listener tcp/7001 notice ipo-ha-sync']);
    const notice = checkConformance({ expectations, hosts: [host([7001])], now: NOW }).find((finding) => finding.port === 7001);
    expect(notice?.message).toMatch(/only in a high-availability pair \("Only used for HA switchover\."\): declare it with --condition ha \(or ipo-ha-sync\)/);
  });

  it('declared by kind, row id or "*": checked like any row (absent is a missing listener, present conformant)', () => {
    for (const conditions of [['ha'], ['ipo-ha-sync'], ['*']]) {
      expect(judge([], { conditions })).toContain('missing-listener tcp/7001 error ipo-ha-sync');
      expect(judge([7001, 7023], { conditions })).not.toContain('conditional-listener tcp/7001 notice ipo-ha-sync');
    }
    expect(judge([7001], { conditions: ['feature'] })).toEqual(['conditional-listener tcp/7001 notice ipo-ha-sync']);
  });

  it('"open only for localhost" seen open from the scanner is an internal port exposed', () => {
    expect(judge([7023])).toEqual(['internal-port-exposed tcp/7023 warning ipo-local-telnet']);
  });

  it('--strict keeps the rows as documented: an absent conditional listener is an error', () => {
    expect(judge([], { strict: true })).toEqual(['missing-listener tcp/7001 error ipo-ha-sync', 'missing-listener tcp/7023 error ipo-local-telnet']);
  });
});
