/**
 * The SYN (half-open) scanner against real kernels: a namespace host behind nftables DROP,
 * REJECT with a TCP reset and REJECT with ICMP admin-prohibited, a path with delay and loss, and
 * a userspace answerer that sends answers which do not acknowledge our SYN. States must equal the
 * truth the connect engine is held to in tcp.test.ts (reset where a connect scan says
 * conn-refused), no handshake may complete on the target (its own PassiveOpens counter), and no
 * wrong answer may decide a port.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { PROFILES } from '../../src/defaults.js';
import { ensureNativeTool } from '../../src/emulator/native-tool.js';
import { impairPath } from '../../src/emulator/impairment.js';
import { createTestHost, type TestHost } from '../../src/emulator/netns.js';
import { scanHosts } from '../../src/scan/engine.js';
import { findFoldedState } from '../../src/model/host-ports.js';
import type { HostScan, Observation } from '../../src/model/port-state.js';
import type { TcpScanType } from '../../src/scan/probes/tcp.js';
import { describeNetns, IMPAIRMENT_TOOLS } from '../helpers/netns.js';

const LISTENERS = [22, 80, 443, 5060, 8443, 50791];
let host: TestHost | undefined;
const servers: Server[] = [];

afterEach(async () => {
  await host?.destroy();
  host = undefined;
  for (const server of servers.splice(0)) server.close();
});

async function startHost(label: string): Promise<TestHost> {
  const created = await createTestHost({ label });
  host = created;
  const program = `const net=require('net');for(const p of ${JSON.stringify(LISTENERS)})net.createServer(s=>s.destroy()).listen(p,'0.0.0.0');setInterval(()=>{},1e6)`;
  created.spawn([process.execPath, '-e', program]);
  for (let attempt = 0; attempt < 50; attempt++) {
    const { stdout } = await created.exec(['ss', '-Hltn']);
    if (LISTENERS.every((port) => stdout.includes(`:${port} `))) return created;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('listeners inside the namespace did not come up');
}

/** Completed handshakes the target's kernel has accepted (its own counter, read inside the namespace). */
async function passiveOpens(target: TestHost): Promise<number> {
  const { stdout } = await target.exec(['cat', '/proc/net/snmp']);
  const [names, values] = stdout.split('\n').filter((line) => line.startsWith('Tcp:'));
  const index = names!.split(/\s+/).indexOf('PassiveOpens');
  return Number(values!.split(/\s+/)[index]);
}

async function scan(address: string, family: 4 | 6, tcpPorts: { start: number; end: number }[], tcpScanType: TcpScanType) {
  const result = await scanHosts({ targets: [{ target: address, address, family }], plan: { tcp: tcpPorts, udp: [] }, caps: PROFILES.fast, tcpScanType });
  expect(result.complete).toBe(true);
  expect(result.details.tcpScanType).toBe(tcpScanType);
  return { scan: result.hosts[0]!, stats: result.details.tcp[address]! };
}

/** state/reason of every planned port, folded ones included; a SYN scan's reset reads as a connect scan's conn-refused. */
function statesOf(scan: HostScan, ports: Iterable<number>): Map<number, string> {
  const listed = new Map(scan.observations.map((observation) => [observation.port, observation]));
  const folded = findFoldedState(scan.folded, 'tcp');
  const states = new Map<number, string>();
  for (const port of ports) {
    const { state, reason } = (listed.get(port) ?? folded) as Pick<Observation, 'state' | 'reason'>;
    states.set(port, `${state}/${reason === 'reset' ? 'conn-refused' : reason}`);
  }
  return states;
}

function portsOf(plan: { start: number; end: number }[]): number[] {
  return plan.flatMap(({ start, end }) => Array.from({ length: end - start + 1 }, (_, index) => start + index));
}

function differences(a: Map<number, string>, b: Map<number, string>): string[] {
  return [...a].filter(([port, state]) => b.get(port) !== state).map(([port, state]) => `${port}: ${state} vs ${b.get(port)}`);
}

describeNetns('TCP SYN scan (raw sockets, namespace)', () => {
  it('DROP / REJECT reset / admin-prohibited across 1-65535: the states the connect engine is held to, no handshake completed', async () => {
    const target = await startHost('syn-firewall');
    await target.exec(['sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']);
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
    const plan = [{ start: 1, end: 65535 }];
    const before = await passiveOpens(target);
    const syn = await scan(target.address, 4, plan, 'syn');
    const afterSyn = await passiveOpens(target);
    // The counter counts: a connect scan of the listeners completes one handshake per reachable one.
    await scan(target.address, 4, LISTENERS.map((port) => ({ start: port, end: port })), 'connect');
    const afterConnect = await passiveOpens(target);
    expect(afterSyn - before).toBe(0);
    expect(afterConnect - afterSyn).toBe(LISTENERS.length - 1);

    // The truth is what this test configured; the connect engine is held to the same truth in tcp.test.ts.
    const ports = portsOf(plan);
    const synStates = statesOf(syn.scan, ports);
    const expected = (port: number): string =>
      port === 443 || (port >= 1000 && port <= 1499)
        ? 'filtered/no-response'
        : port >= 3000 && port <= 3039
          ? 'filtered/icmp-admin-prohibited'
          : LISTENERS.includes(port)
            ? 'open/syn-ack'
            : 'closed/conn-refused';
    expect(ports.filter((port) => synStates.get(port) !== expected(port))).toEqual([]);
    // The SYN scan says what it saw: an RST is "reset", never a refused connect.
    expect(syn.scan.folded).toEqual([{ transport: 'tcp', state: 'closed', reason: 'reset', count: 65535 - 500 - 40 - LISTENERS.length }]);
    expect(syn.stats.prober).toBe('raw-syn');
    expect(syn.stats.raw?.invalid).toBe(0);
    expect(syn.stats.raw?.sent).toBe(syn.stats.probesSent);
  });

  it('20 ms delay (+-5) and 5 % loss: no port misclassified across 1-65535', async () => {
    const target = await startHost('syn-lossy');
    const path = await impairPath(target, { delayMs: 20, jitterMs: 5, lossPercent: 5 });
    expect(path.measurement.rttMeanMs).toBeGreaterThan(10);
    const { scan: result, stats } = await scan(target.address, 4, [{ start: 1, end: 65535 }], 'syn');
    expect(result.observations.map((observation) => `${observation.port}:${observation.state}`)).toEqual(LISTENERS.map((port) => `${port}:open`));
    expect(result.folded).toEqual([{ transport: 'tcp', state: 'closed', reason: 'reset', count: 65535 - LISTENERS.length }]);
    // Loss was real and answered by retransmissions; RTTs were measured through the delay.
    expect(stats.maxAnsweredAttempt).toBeGreaterThanOrEqual(2);
    expect(stats.probesSent).toBeGreaterThan(65535);
    expect(stats.srttMs!).toBeGreaterThan(10);
  });

  it('ignores answers with a wrong acknowledgement or from the wrong port, injected from the target', async () => {
    const target = await startHost('syn-forged');
    // The kernel stays silent on 20000-20999; the answerers alone reply there.
    await target.nft(`table inet pmtest {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 20000-20999 drop
  }
}
`);
    const binary = await ensureNativeTool('syn-answerer');
    const answerers = [
      target.spawn([binary, '--mode', 'wrong-ack', '--ports', '20000-20499']),
      target.spawn([binary, '--mode', 'wrong-port', '--ports', '20500-20999']),
    ];
    for (const answerer of answerers) {
      const [chunk] = (await once(answerer.stdout!, 'data')) as [Buffer];
      expect(chunk.toString()).toContain('ready');
    }
    const plan = [{ start: 1, end: 100 }, { start: 20000, end: 20999 }];
    const { scan: result, stats } = await scan(target.address, 4, plan, 'syn');
    const answered = await Promise.all(
      answerers.map(async (answerer) => {
        const stderr: Buffer[] = [];
        answerer.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
        answerer.kill('SIGTERM');
        await once(answerer, 'exit');
        return Number(/answered (\d+)/.exec(Buffer.concat(stderr).toString())?.[1] ?? 0);
      }),
    );
    // Every probed port got wrong answers (two each), and none of them decided a port.
    expect(answered.every((count) => count >= 500)).toBe(true);
    expect(stats.raw!.invalid).toBeGreaterThanOrEqual(2 * 1000);
    const states = statesOf(result, portsOf(plan));
    const forgedRange = portsOf([{ start: 20000, end: 20999 }]);
    expect(forgedRange.filter((port) => states.get(port) !== 'filtered/no-response')).toEqual([]);
    expect([22, 80].map((port) => states.get(port))).toEqual(['open/syn-ack', 'open/syn-ack']);
  });

  it('a host that left after its neighbour entry was learned (reachable, forced stale, then failed): the scan ends, host down, every port filtered', async () => {
    // The neighbour entry is our own veth's (removed with it); the address leaves the namespace.
    const target = await startHost('syn-neighbour');
    const neighbour = (): string => execFileSync('ip', ['neigh', 'show', target.address, 'dev', target.hostLink], { encoding: 'utf8' }).trim();
    const quick = { ...PROFILES.fast, maxRetries: 1, initialRttTimeoutMs: 300, maxRttTimeoutMs: 300 };
    const scanGone = async (ports: { start: number; end: number }[]) => {
      const result = await scanHosts({ targets: [{ target: target.address, address: target.address, family: 4 }], plan: { tcp: ports, udp: [] }, caps: quick, tcpScanType: 'syn' });
      expect(result.complete).toBe(true);
      return result.hosts[0]!;
    };
    const present = await scanGone([{ start: 1, end: 1000 }]);
    expect(present.status).toEqual({ state: 'up', reason: 'port-answered' });
    const mac = /lladdr (\S+)/.exec(neighbour())?.[1];
    expect(mac).toBeDefined();
    await target.exec(['ip', 'addr', 'del', `${target.address}/${target.prefixLength}`, 'dev', target.targetLink]);
    const phases: string[] = [];
    for (const phase of ['reachable', 'stale', 'failed'] as const) {
      if (phase === 'stale') execFileSync('ip', ['neigh', 'change', target.address, 'dev', target.hostLink, 'lladdr', mac!, 'nud', 'stale']);
      const entry = neighbour();
      const gone = await scanGone(phase === 'stale' ? [{ start: 1, end: 65535 }] : [{ start: 1, end: 2000 }]);
      // An ICMP host-unreachable from our own stack (ARP gave up) is as good an answer as silence.
      expect(['down no-response', 'down host-unreach']).toContain(`${gone.status.state} ${gone.status.reason}`);
      expect(gone.observations.filter((observation) => observation.state !== 'filtered')).toEqual([]);
      expect(gone.folded.every((fold) => fold.state === 'filtered')).toBe(true);
      phases.push(`${phase}: ${/\b(REACHABLE|STALE|DELAY|PROBE|FAILED|INCOMPLETE)\b/.exec(entry)?.[1] ?? entry}`);
    }
    // The phases really were what they are named after (the last scan ran on the entry the stale one left).
    expect(phases[0]).toBe('reachable: REACHABLE');
    expect(phases[1]).toBe('stale: STALE');
    expect(phases[2]).toMatch(/^failed: (FAILED|INCOMPLETE)$/);
  }, 180_000);

  it('IPv6 (::1): the same states as the connect engine, answers validated', async () => {
    const ports: number[] = [];
    for (let index = 0; index < 3; index++) {
      const server = createServer((socket) => socket.destroy());
      servers.push(server);
      server.listen(0, '::1');
      await once(server, 'listening');
      ports.push((server.address() as { port: number }).port);
    }
    const plan = [{ start: 1, end: 1024 }, ...ports.map((port) => ({ start: port, end: port }))];
    const syn = await scan('::1', 6, plan, 'syn');
    const connect = await scan('::1', 6, plan, 'connect');
    const synStates = statesOf(syn.scan, portsOf(plan));
    expect(differences(synStates, statesOf(connect.scan, portsOf(plan)))).toEqual([]);
    expect(ports.map((port) => synStates.get(port))).toEqual(ports.map(() => 'open/syn-ack'));
    expect(syn.stats.raw!.invalid).toBe(0);
    expect(syn.stats.raw!.answers).toBeGreaterThanOrEqual(1024);
  });
}, IMPAIRMENT_TOOLS, { synProber: true });
