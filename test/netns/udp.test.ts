/**
 * scanUdp against namespace targets with the kernel's default ICMP rate limit (one port
 * unreachable per second after a burst of six, per scanning address): responders, closed
 * ports, nftables DROP and REJECT admin-prohibited over IPv4 and IPv6 (ICMPv6), 5 % loss, and
 * the documented UDP ports of the IP Office 9.1 selection among a hundred other closed ports.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROFILES } from '../../src/defaults.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/emulator.js';
import { parseDriftSpec } from '../../src/emulator/drift.js';
import { createTestHost, type TestHost } from '../../src/emulator/netns.js';
import { truthOf } from '../../src/emulator/target-plan.js';
import type { Observation } from '../../src/model/port-state.js';
import { scanUdp } from '../../src/scan/probes/udp.js';
import { documentedUdpPorts, udpPortHints } from '../../src/matrix/documented-ports.js';
import { planUdpPorts, planUdpProbes } from '../../src/scan/udp-plan.js';
import { describeNetns } from '../helpers/netns.js';
import { itNeeding } from '../helpers/requirements.js';

// The engine gives UDP a quarter of the gentle profile's rate and at most 64 sockets.
const CAPS = { ...PROFILES.gentle, maxConcurrency: 64, maxRatePerSecond: 75 };
/** Answers on port 7000 of each address given. */
const RESPONDER = `
const dgram = require('node:dgram');
for (const address of process.argv.slice(1)) {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (message, remote) => socket.send(Buffer.from('pong'), remote.port, remote.address));
  socket.bind(7000, address);
}
`;

function byPort(observations: readonly Observation[]): Map<number, Observation> {
  return new Map(observations.map((observation) => [observation.port, observation]));
}

/** A hundred ports nothing documents, spread out like a scan plan's, none of them a known service. */
function undocumentedPorts(exclude: readonly number[]): number[] {
  const ports: number[] = [];
  for (let port = 20011; ports.length < 100; port += 37) if (!exclude.includes(port)) ports.push(port);
  return ports;
}

/**
 * What an ICMP admin-prohibited reads as without the raw socket: Linux turns IPv4 code 13 into
 * EHOSTUNREACH on a connected socket (filtered, without the code) and ICMPv6 code 1 into EACCES.
 */
const UNPRIVILEGED_PROHIBITED = { 4: 'host-unreach', 6: 'icmp-admin-prohibited' } as const;

describeNetns('scanUdp on namespace targets (default ICMP rate limits)', () => {
  let host: TestHost;
  const addressOf = (family: 4 | 6): string => (family === 6 ? host.address6 : host.address);
  const scan = (family: 4 | 6, privileged: boolean) =>
    scanUdp({ address: addressOf(family), family, plan: planUdpProbes([7000, 7001, 7002, 7003, 7004]), caps: CAPS, snmpCommunity: 'public', privileged });

  beforeAll(async () => {
    host = await createTestHost({ label: 'udp-states' });
    host.spawn(['node', '-e', RESPONDER, host.address, host.address6]);
    await host.nft(`
table inet portmatrix_udp_test {
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport 7001 drop
    udp dport 7002 reject with icmpx type admin-prohibited
    udp dport 7004 reject with icmpx type host-unreachable
  }
}`);
    // The responder needs a moment to bind: bounded wait for its first answer on both families.
    for (const family of [4, 6] as const) {
      for (let tries = 0; tries < 50; tries++) {
        const [observation] = await scanUdp({ address: addressOf(family), family, plan: planUdpProbes([7000]), caps: CAPS, snmpCommunity: 'public' });
        if (observation?.state === 'open') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });

  afterAll(async () => {
    await host?.destroy();
  });

  for (const family of [4, 6] as const) {
    it(`IPv${family}: responder open, nothing listening closed, DROP open|filtered, REJECT admin-prohibited filtered (unprivileged: ${UNPRIVILEGED_PROHIBITED[family]})`, async () => {
      const observations = byPort(await scan(family, false));
      expect(observations.get(7000)).toMatchObject({ state: 'open', reason: 'udp-response' });
      expect(observations.get(7001)).toMatchObject({ state: 'open|filtered', reason: 'no-response', rttMs: null });
      expect(observations.get(7002)).toMatchObject({ state: 'filtered', reason: UNPRIVILEGED_PROHIBITED[family] });
      expect(observations.get(7003)).toMatchObject({ state: 'closed', reason: 'icmp-port-unreach' });
      // A host unreachable is a soft error: a connected socket without IP_RECVERR never hears of it.
      expect(observations.get(7004)).toMatchObject({ state: 'open|filtered', reason: 'no-response' });
      expect(observations.get(7001)?.attempts).toBeGreaterThanOrEqual(2);
    });

    itNeeding(
      `IPv${family} privileged: the raw ${family === 6 ? 'ICMPv6' : 'ICMP'} socket reads the code: admin-prohibited, port unreachable, and a host unreachable the errno cannot tell apart`,
      { rawSocket: true },
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 2_000)); // the previous test spent ICMP tokens
        const observations = byPort(await scan(family, true));
        expect(observations.get(7000)?.state).toBe('open');
        expect(observations.get(7001)?.state).toBe('open|filtered');
        expect(observations.get(7002)).toMatchObject({ state: 'filtered', reason: 'icmp-admin-prohibited' });
        expect(observations.get(7003)).toMatchObject({ state: 'closed', reason: 'icmp-port-unreach' });
        // IPv4 code 1 / ICMPv6 code 3 (address unreachable): silence to a socket, the code to the raw socket.
        expect(observations.get(7004)).toMatchObject({ state: 'filtered', reason: 'icmp-host-unreach' });
      },
    );
  }
});

describeNetns('scanUdp over IPv6 (the kernel default ICMPv6 limit, faster than the IPv4 one)', () => {
  let host: TestHost;

  afterAll(async () => {
    await host?.destroy();
  });

  it('60 closed ports and 10 dropped ones: every closed one is closed, every dropped one open|filtered after spaced probes', async () => {
    host = await createTestHost({ label: 'udp-v6-limit' });
    // The kernel's own limit, not a relaxed one: Linux spaces ICMPv6 errors per peer (100 ms here).
    const { stdout } = await host.exec(['sysctl', '-n', 'net.ipv6.icmp.ratelimit']);
    expect(Number(stdout.trim())).toBeGreaterThan(0);
    const ports = undocumentedPorts([]).slice(0, 70);
    const dropped = ports.filter((_, index) => index % 7 === 0);
    await host.nft(`table inet portmatrix_udp_v6 {
  chain input { type filter hook input priority 0; policy accept; udp dport { ${dropped.join(', ')} } drop; }
}`);
    // More answers in the sweep than IPv4's one a second, yet far from one per port: the scan must
    // see the limit (retries drawing late answers), measure it, and confirm the rest at its pace.
    const observations = await scanUdp({ address: host.address6, family: 6, plan: planUdpProbes(ports), caps: CAPS, snmpCommunity: 'public', privileged: false, confirm: 'all' });
    const wrong = observations.filter((observation) => observation.state !== (dropped.includes(observation.port) ? 'open|filtered' : 'closed'));
    expect(wrong.map((o) => `${o.port}: ${o.state} ${o.detail ?? ''}`)).toEqual([]);
    expect(observations).toHaveLength(ports.length);
    for (const port of dropped) expect(observations.find((o) => o.port === port)?.detail).toMatch(/spaced for the target's ICMP rate limit$/);
  });
});

describeNetns('scanUdp on an emulated IP Office 9.1 (default ICMP rate limits)', () => {
  let emulator: RunningEmulator | undefined;

  afterAll(async () => {
    await emulator?.stop();
  });

  it('classifies every documented UDP port right, closed ones included, among 100 other closed ports', async () => {
    // Eight documented listeners missing: closed documented ports among a hundred closed others.
    const drift = parseDriftSpec(
      ['67', '69', '123', '161', '520', '5060', '50792', '50795'].map((port) => `missing:udp/${port}`).join(','),
    );
    emulator = await startEmulator({ matrix: 'ip-office-9.1', mode: 'namespace', drift, label: 'udp-ipo' });
    const documented = documentedUdpPorts(emulator.expectations);
    const plan = planUdpPorts('matrix', documentedUdpPorts(emulator.expectations));
    const ports = [...plan, ...undocumentedPorts(plan)];
    // Over 120 silent ports: the documented ones are confirmed, the others may stay open|filtered.
    const observations = byPort(await scanUdp({ address: emulator.address, family: 4, plan: planUdpProbes(ports, udpPortHints(emulator.expectations, ports)), caps: CAPS, snmpCommunity: 'public', confirm: 'documented' }));
    expect(observations.size).toBe(ports.length);
    const wrong = documented.filter((port) => observations.get(port)?.state !== truthOf(emulator!.truth, 'udp', port));
    expect(wrong.map((port) => `${port}: ${observations.get(port)?.state} (truth ${truthOf(emulator!.truth, 'udp', port)})`)).toEqual([]);
    expect(documented.filter((port) => truthOf(emulator!.truth, 'udp', port) === 'closed').length).toBeGreaterThanOrEqual(9);
    // Whatever else the sweep caught is right too: a port is never called closed or open wrongly;
    // the others say why they stayed open|filtered.
    for (const observation of observations.values()) {
      if (observation.state !== 'open|filtered') expect(observation.state).toBe(truthOf(emulator.truth, 'udp', observation.port));
      else if (!documented.includes(observation.port)) expect(observation.detail).toMatch(/^not confirmed \(--udp-confirm documented\)/);
    }
    await emulator.stop();
    emulator = undefined;
  });

  it('--udp matrix on a drifted IP Office: every planned port ends open, closed or filtered, as the target has it', async () => {
    // Closed undocumented ports among the common services and closed documented ones: with the
    // default rule (all, for a plan this small) none may be left open|filtered.
    const drift = parseDriftSpec('missing:udp/69,missing:udp/161,missing:udp/5060');
    emulator = await startEmulator({ matrix: 'ip-office-9.1', mode: 'namespace', drift, label: 'udp-all' });
    const ports = planUdpPorts('matrix', documentedUdpPorts(emulator.expectations));
    const progress: number[] = [];
    const observations = await scanUdp({
      address: emulator.address,
      family: 4,
      plan: planUdpProbes(ports, udpPortHints(emulator.expectations, ports)),
      caps: CAPS,
      snmpCommunity: 'public',
      onConfirmProgress: ({ pendingPorts, etaMs }) => progress.push(pendingPorts > 0 ? etaMs : 0),
    });
    const wrong = observations.filter((observation) => observation.state !== truthOf(emulator!.truth, 'udp', observation.port));
    expect(wrong.map((o) => `${o.port}: ${o.state} ${o.detail ?? ''} (truth ${truthOf(emulator!.truth, 'udp', o.port)})`)).toEqual([]);
    expect(observations.map((observation) => observation.port)).toEqual([...ports].sort((a, b) => a - b));
    const closed = observations.filter((observation) => observation.state === 'closed').length;
    expect(closed).toBeGreaterThan(10); // more than the ICMP burst: confirmation had work to do
    // The ETA was the ICMP budget's: about a second per closed port still to confirm, falling to 0.
    expect(Math.max(...progress)).toBeGreaterThan(1_000 * (closed - 12));
    expect(progress.at(-1)).toBe(0);
    await emulator.stop();
    emulator = undefined;
  });

  it('5 % loss: no documented open port whose service has a payload is left open|filtered', async () => {
    emulator = await startEmulator({ matrix: 'ip-office-9.1', mode: 'namespace', label: 'udp-loss' });
    // 5 % of round trips lost: 2.5 % of the datagrams each way (nftables numgen, inside the target).
    await emulator.host?.nft(`
table inet portmatrix_udp_loss {
  chain input { type filter hook input priority -10; policy accept; meta l4proto udp numgen random mod 1000 < 25 drop; }
  chain output { type filter hook output priority -10; policy accept; meta l4proto udp numgen random mod 1000 < 25 drop; }
}`);
    const documented = documentedUdpPorts(emulator.expectations);
    const ports = [...planUdpPorts('matrix', documentedUdpPorts(emulator.expectations))];
    const observations = byPort(await scanUdp({ address: emulator.address, family: 4, plan: planUdpProbes(ports, udpPortHints(emulator.expectations, ports)), caps: CAPS, snmpCommunity: 'public' }));
    const openDocumented = documented.filter((port) => truthOf(emulator!.truth, 'udp', port) === 'open');
    expect(openDocumented.length).toBeGreaterThan(5);
    const missed = openDocumented.filter((port) => observations.get(port)?.state !== 'open');
    expect(missed.map((port) => `${port}: ${observations.get(port)?.state} (${observations.get(port)?.service})`)).toEqual([]);
    await emulator.stop();
    emulator = undefined;
  });
});
