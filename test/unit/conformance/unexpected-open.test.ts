/**
 * Open ports that are not what they seem: a port that did not confirm on the second look is
 * port-flapping (a notice), never an extra listener; a host that answers everything gets one
 * host-level finding, never one extra listener per port. Pure, on the sample selection.
 */
import { describe, expect, it } from 'vitest';
import { checkConformance } from '../../../src/conformance/diff.js';
import { detectAnswersEverything } from '../../../src/scan/answers-everything.js';
import { documentedTcpListeners } from '../../../src/matrix/documented-ports.js';
import type { HostScan, Observation } from '../../../src/model/port-state.js';
import { selectSecondLookPorts } from '../../../src/scan/second-look.js';
import { EXPECTATIONS, NOW } from './sample.js';

function open(port: number, extra: Partial<Observation> = {}): Observation {
  return { transport: 'tcp', port, state: 'open', reason: 'syn-ack', rttMs: 1, attempts: 1, ...extra };
}

function host(observations: Observation[], extra: Partial<HostScan> = {}): HostScan {
  return { target: '198.18.0.2', address: '198.18.0.2', family: 4, plan: { tcp: '1-65535', udp: '' }, observations, folded: [{ transport: 'tcp', state: 'closed', reason: 'reset', count: 65535 - observations.length }], complete: true, status: { state: 'up', reason: 'port-answered' }, ...extra };
}

const deviations = (scan: HostScan) =>
  checkConformance({ expectations: EXPECTATIONS, hosts: [scan], now: NOW })
    .filter((finding) => finding.kind !== 'conformant')
    .map((finding) => `${finding.kind} ${finding.transport}/${finding.port} ${finding.severity}`);

describe('second look', () => {
  it('looks again only at open TCP ports no external row documents as a listener', () => {
    const observations = [open(80), open(443), open(23), open(50791), open(31337), open(7070), { ...open(161), transport: 'udp' as const }];
    // 80/443 documented open, 7070 conditional: listeners. 23 documented closed, 50791 internal, 31337 undocumented: looked at again.
    expect(selectSecondLookPorts(observations, documentedTcpListeners(EXPECTATIONS))).toEqual([23, 50791, 31337]);
  });

  it('a port that did not confirm is port-flapping (notice) where it would have been an extra listener or an exposed internal port', () => {
    const flapping = { flapping: true as const, detail: 'was open on the main pass, closed (reset) on a second look' };
    const scan = host([open(80), open(443), open(5060), open(50812), open(5443), open(31337, flapping), open(50791, flapping), open(40000)]);
    // 40000 confirmed on the second look: still an extra listener.
    expect(deviations(scan).sort()).toEqual(['extra-listener tcp/40000 error', 'port-flapping tcp/31337 notice', 'port-flapping tcp/50791 notice']);
    const finding = checkConformance({ expectations: EXPECTATIONS, hosts: [scan], now: NOW }).find((candidate) => candidate.port === 31337)!;
    expect(finding.message).toBe('tcp/31337 was open on the main pass, closed (reset) on a second look: not reported as extra listener');
  });
});

describe('a host that answers everything', () => {
  const everything = Array.from({ length: 65535 }, (_, index) => open(index + 1));

  it('is detected from the share of open ports, or from answers failing validation, and not on a real host', () => {
    expect(detectAnswersEverything({ observations: everything, scannedPorts: 65535, invalidAnswers: 0, probesSent: 65535 })).toEqual({ transport: 'tcp', openPorts: 65535, scannedPorts: 65535, invalidAnswers: 0 });
    expect(detectAnswersEverything({ observations: [open(22)], scannedPorts: 65535, invalidAnswers: 4000, probesSent: 131070 })?.invalidAnswers).toBe(4000);
    // A Contact Center server with 400 listeners, a quick --ports matrix check where every documented port is open, a stray answer.
    expect(detectAnswersEverything({ observations: everything.slice(0, 400), scannedPorts: 65535, invalidAnswers: 0, probesSent: 65535 })).toBeNull();
    expect(detectAnswersEverything({ observations: everything.slice(0, 50), scannedPorts: 50, invalidAnswers: 0, probesSent: 50 })).toBeNull();
    expect(detectAnswersEverything({ observations: [open(22)], scannedPorts: 65535, invalidAnswers: 3, probesSent: 65535 })).toBeNull();
  });

  it('gives one host-level finding instead of an extra listener per port; a documented port that stayed dark is still missing', () => {
    const observations = everything.filter((observation) => observation.port !== 443);
    const scan = host(observations, {
      folded: [{ transport: 'tcp', state: 'closed', reason: 'reset', count: 1 }],
      answersEverything: { transport: 'tcp', openPorts: 65534, scannedPorts: 65535, invalidAnswers: 0 },
    });
    expect(deviations(scan)).toEqual(['answers-everything tcp/0 error', 'missing-listener tcp/443 error']);
  });
});
