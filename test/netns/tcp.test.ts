/**
 * The TCP scanner against a real kernel in a network namespace (198.18.0.0/15 and a ULA /64):
 * nftables DROP, REJECT with a TCP reset, REJECT with ICMP / ICMPv6 admin-prohibited, over IPv4
 * and IPv6 (connect and SYN), and a path with 20 ms delay and 5 % loss. The truth is what the
 * test configured; every port must match it.
 */
import { afterEach, expect, it } from 'vitest';
import { PROFILES } from '../../src/defaults.js';
import { createTestHost, type TestHost } from '../../src/emulator/netns.js';
import { impairPath } from '../../src/emulator/impairment.js';
import { scanHosts } from '../../src/scan/engine.js';
import { findFoldedState } from '../../src/model/host-ports.js';
import type { HostScan, Observation } from '../../src/model/port-state.js';
import type { TcpScanType } from '../../src/scan/probes/tcp.js';
import { describeNetns, IMPAIRMENT_TOOLS } from '../helpers/netns.js';
import { itNeeding } from '../helpers/requirements.js';

const LISTENERS = [22, 80, 443, 5060, 8443, 50791];
let host: TestHost | undefined;

afterEach(async () => {
  await host?.destroy();
  host = undefined;
});

async function startHost(label: string): Promise<TestHost> {
  const created = await createTestHost({ label });
  host = created;
  const program = `const net=require('net');for(const p of ${JSON.stringify(LISTENERS)})net.createServer(s=>s.destroy()).listen(p,'::');setInterval(()=>{},1e6)`;
  created.spawn([process.execPath, '-e', program]);
  // Wait until the listeners answer (bounded).
  for (let attempt = 0; attempt < 50; attempt++) {
    const { stdout } = await created.exec(['ss', '-Hltn']);
    if (LISTENERS.every((port) => stdout.includes(`:${port} `))) return created;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('listeners inside the namespace did not come up');
}

/** Every planned port with its state and reason, folded ones included. */
function statesOf(scan: HostScan, ports: Iterable<number>, refused: Observation['reason'] = 'conn-refused'): Map<number, Pick<Observation, 'state' | 'reason'>> {
  const listed = new Map(scan.observations.map((observation) => [observation.port, observation]));
  const folded = findFoldedState(scan.folded, 'tcp');
  const states = new Map<number, Pick<Observation, 'state' | 'reason'>>();
  for (const port of ports) {
    const observation = listed.get(port);
    states.set(port, observation ?? folded ?? { state: 'closed', reason: refused });
  }
  return states;
}

/** Connect over both families; SYN over IPv6 too (its IPv4 twin is test/netns/syn.test.ts). */
const FIREWALL_CASES: { family: 4 | 6; scanType: TcpScanType }[] = [
  { family: 4, scanType: 'connect' },
  { family: 6, scanType: 'connect' },
  { family: 6, scanType: 'syn' },
];

describeNetns('TCP scan through firewalls and impaired paths (namespace)', () => {
  for (const { family, scanType } of FIREWALL_CASES) {
  const title = `IPv${family} ${scanType}: DROP -> filtered/no-response, REJECT tcp reset -> closed, REJECT admin-prohibited -> filtered with the ICMP reason`;
  itNeeding(title, scanType === 'syn' ? { synProber: true } : {}, async () => {
    const target = await startHost(`tcp-firewall-v${family}`);
    const address = family === 6 ? target.address6 : target.address;
    // A Linux target sends about one ICMP error a second per peer; beyond that a REJECT looks like
    // a DROP (silence), to nmap as to us. Lift the per-peer limit inside the test host and keep the
    // ICMP range under the global burst (50), so every REJECT really answers.
    await target.exec(['sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0']);
    await target.nft(`table inet pmtest {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 1000-1499 drop
    tcp dport 2000-2499 reject with tcp reset
    tcp dport 3000-3039 reject with icmpx type admin-prohibited
    tcp dport 443 drop
  }
}
`);
    const plan = [{ start: 1, end: 4000 }, { start: 5060, end: 5060 }, { start: 8443, end: 8443 }, { start: 50791, end: 50791 }];
    const { hosts, complete, details } = await scanHosts({
      targets: [{ target: address, address, family }],
      plan: { tcp: plan, udp: [] },
      caps: PROFILES.fast,
      tcpScanType: scanType,
    });
    expect(complete).toBe(true);
    expect(details.tcpScanType).toBe(scanType);
    expect(hosts[0]?.address).toBe(address);
    const refused = scanType === 'syn' ? 'reset' : 'conn-refused';
    const scan = hosts[0]!;
    const ports = plan.flatMap(({ start, end }) => Array.from({ length: end - start + 1 }, (_, index) => start + index));
    const states = statesOf(scan, ports, refused);
    const wrong: string[] = [];
    for (const port of ports) {
      let expected: Pick<Observation, 'state' | 'reason'>;
      if (port === 443 || (port >= 1000 && port <= 1499)) expected = { state: 'filtered', reason: 'no-response' };
      else if (port >= 2000 && port <= 2499) expected = { state: 'closed', reason: refused };
      else if (port >= 3000 && port <= 3039) expected = { state: 'filtered', reason: 'icmp-admin-prohibited' };
      else if (LISTENERS.includes(port)) expected = { state: 'open', reason: 'syn-ack' };
      else expected = { state: 'closed', reason: refused };
      const seen = states.get(port);
      if (seen?.state !== expected.state || seen.reason !== expected.reason) wrong.push(`${port}: ${seen?.state}/${seen?.reason}, expected ${expected.state}/${expected.reason}`);
    }
    expect(wrong).toEqual([]);
    // A dropped port got its retries: nothing answered late, so exactly two probes each (nmap's rule).
    const dropped = scan.observations.filter((observation) => observation.reason === 'no-response');
    expect(dropped.every((observation) => observation.attempts >= 2 && observation.rttMs === null)).toBe(true);
  });
  }

  it('20 ms delay (+-5) and 5 % loss: no port misclassified across 1-65535', async () => {
    const target = await startHost('tcp-lossy');
    const path = await impairPath(target, { delayMs: 20, jitterMs: 5, lossPercent: 5 });
    expect(path.measurement.rttMeanMs).toBeGreaterThan(10);
    const { hosts, complete, details } = await scanHosts({
      targets: [{ target: target.address, address: target.address, family: 4 }],
      plan: { tcp: [{ start: 1, end: 65535 }], udp: [] },
      caps: PROFILES.fast,
    });
    expect(complete).toBe(true);
    const scan = hosts[0]!;
    const notClosed = scan.observations.map((observation) => `${observation.port}:${observation.state}`);
    expect(notClosed).toEqual(LISTENERS.map((port) => `${port}:open`));
    expect(scan.folded).toEqual([{ transport: 'tcp', state: 'closed', reason: 'conn-refused', count: 65535 - LISTENERS.length }]);
    // Loss was real and answered by retries, not by luck.
    const stats = details.tcp[target.address]!;
    expect(stats.maxAnsweredAttempt).toBeGreaterThanOrEqual(2);
    expect(stats.probesSent).toBeGreaterThan(65535);
    expect(stats.srttMs!).toBeGreaterThan(10);
  });
}, IMPAIRMENT_TOOLS);
