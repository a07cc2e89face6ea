/**
 * The TCP connect scanner against real sockets on 127.0.0.1: listeners started on port 0,
 * closed ports, the self-connect trap in the ephemeral range, the file-descriptor limit, the
 * built CLI (one-line errors, JSON result, SIGINT). Other processes may open or close loopback
 * listeners while this runs, so "open" is checked against the kernel's own listener table.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES } from '../../src/defaults.js';
import type { ScanResult } from '../../src/result/model.js';
import { scanHosts } from '../../src/scan/engine.js';
import type { HostScan } from '../../src/model/port-state.js';
import { itNeeding } from '../helpers/requirements.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'bin', 'portmatrix.js');

/** TCP ports in LISTEN that accept connections to 127.0.0.1 (from /proc/net/tcp and tcp6). */
function loopbackListeners(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== '0A') continue;
      const [address = '', portHex = '0'] = (fields[1] ?? '').split(':');
      const reachable =
        /^(0{8}|0100007F)$/.test(address) || /^0{32}$/.test(address) || /^0{20}FFFF00000{0}0100007F$/i.test(address) || address === '0000000000000000FFFF00000100007F';
      if (reachable) ports.add(Number.parseInt(portHex, 16));
    }
  }
  return ports;
}

/**
 * Runs `work` while reading the listener table every 20 ms: `ever` holds every loopback listener
 * seen at any moment, `always` those seen throughout. On a shared machine other processes open
 * listeners for a second (a test's reference server, an emulator): one that came and went
 * between two snapshots taken before and after a scan would read as open without a listener.
 */
async function listenersDuring<T>(work: () => Promise<T>): Promise<{ result: T; ever: Set<number>; always: Set<number> }> {
  const first = loopbackListeners();
  const ever = new Set(first);
  let always = new Set(first);
  const look = (): void => {
    const now = loopbackListeners();
    for (const port of now) ever.add(port);
    always = new Set([...always].filter((port) => now.has(port)));
  };
  const timer = setInterval(look, 20);
  try {
    const result = await work();
    look();
    return { result, ever, always };
  } finally {
    clearInterval(timer);
  }
}

function openPorts(host: HostScan): Set<number> {
  return new Set(host.observations.filter((observation) => observation.state === 'open').map((observation) => observation.port));
}

function countStates(host: HostScan): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const observation of host.observations) counts[observation.state] = (counts[observation.state] ?? 0) + 1;
  for (const folded of host.folded) counts[folded.state] = (counts[folded.state] ?? 0) + folded.count;
  return counts;
}

function runCli(args: string[], options: { shell?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const [file, argv] = options.shell ? ['sh', ['-c', options.shell]] : [process.execPath, [CLI, ...args]];
    execFile(file, argv as string[], { cwd: REPO, timeout: 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const servers: Server[] = [];
const listenerPorts: number[] = [];
let closedPorts: number[] = [];

beforeAll(async () => {
  for (let index = 0; index < 5; index++) {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    listenerPorts.push((server.address() as { port: number }).port);
  }
  // Ports that were just free: bind, read the number, close.
  const probes: Server[] = [];
  for (let index = 0; index < 5; index++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    probes.push(server);
  }
  closedPorts = probes.map((server) => (server.address() as { port: number }).port);
  await Promise.all(probes.map((server) => new Promise((resolve) => server.close(resolve))));
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('connect scan on loopback (library)', () => {
  // The result names the prober that ran: where the addon was built, the native one really did (CI fails without it).
  for (const prober of ['native', 'net-socket'] as const) itNeeding(`listeners are open with syn-ack and an RTT, free ports closed (${prober})`, { nativeProber: prober === 'native' }, async () => {
    const ports = [...listenerPorts, ...closedPorts].map((port) => ({ start: port, end: port }));
    const { hosts, complete, details } = await scanHosts({
      targets: [{ target: '127.0.0.1', address: '127.0.0.1', family: 4 }],
      plan: { tcp: ports, udp: [] },
      caps: PROFILES.fast,
      prober,
    });
    expect(complete).toBe(true);
    expect(details.prober).toBe(prober);
    const host = hosts[0]!;
    for (const port of listenerPorts) {
      const observation = host.observations.find((candidate) => candidate.port === port);
      expect(observation).toMatchObject({ transport: 'tcp', state: 'open', reason: 'syn-ack', attempts: 1 });
      expect(observation?.rttMs).toBeGreaterThanOrEqual(0);
    }
    const listening = loopbackListeners();
    const expectedClosed = closedPorts.filter((port) => !listening.has(port)).length;
    expect(host.folded).toEqual([{ transport: 'tcp', state: 'closed', reason: 'conn-refused', count: expectedClosed }]);
  });

  it('the ephemeral range: no self-connect is reported open, every listener is', async () => {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const {
      result: { hosts, details },
      ever,
      always,
    } = await listenersDuring(() =>
      scanHosts({
        targets: [{ target: '127.0.0.1', address: '127.0.0.1', family: 4 }],
        plan: { tcp: [{ start: low!, end: high! }], udp: [] },
        caps: PROFILES.fast,
      }),
    );
    const open = openPorts(hosts[0]!);
    for (const port of open) expect(ever.has(port), `tcp/${port} reported open without a listener`).toBe(true);
    for (const port of always) if (port >= low! && port <= high!) expect(open.has(port), `listener tcp/${port} missed`).toBe(true);
    const counts = countStates(hosts[0]!);
    expect((counts.open ?? 0) + (counts.closed ?? 0)).toBe(high! - low! + 1);
    expect(details.tcp['127.0.0.1']?.selfConnects).toBeGreaterThanOrEqual(0);
  });
});

describe('portmatrix scan (built CLI)', () => {
  it('ulimit -n 256 with --max-concurrency 4000 gives the same states as an unconstrained run', async () => {
    const args = `scan 127.0.0.1 --udp none --profile fast --max-concurrency 4000 --format json --seed 7`;
    const {
      result: [limited, free],
      ever,
      always,
    } = await listenersDuring(async () => [await runCli([], { shell: `ulimit -n 256; exec "${process.execPath}" bin/portmatrix.js ${args}` }), await runCli(args.split(' '))] as const);
    // Nothing on stderr but, where the addon was not built, the one note that says so.
    expect(limited.stderr.split('\n').filter((line) => line && !line.startsWith('portmatrix: note: the native connect prober'))).toEqual([]);
    expect(limited.code).toBe(0);
    expect(free.code).toBe(0);
    const limitedResult = JSON.parse(limited.stdout) as ScanResult;
    const freeResult = JSON.parse(free.stdout) as ScanResult;
    expect(limitedResult.parameters.fdSoftLimit).toBe(256);
    expect(limitedResult.parameters.effectiveTcpConcurrency as number).toBeLessThan(256);
    expect(freeResult.parameters.effectiveTcpConcurrency as number).toBeGreaterThan(1000);
    for (const result of [limitedResult, freeResult]) {
      const host = result.hosts[0]!;
      expect(result.complete).toBe(true);
      const counts = countStates(host);
      expect(counts.filtered ?? 0).toBe(0);
      expect((counts.open ?? 0) + (counts.closed ?? 0)).toBe(65535);
      const open = openPorts(host);
      for (const port of [...listenerPorts, ...always]) expect(open.has(port), `tcp/${port}`).toBe(true);
      for (const port of open) expect(ever.has(port), `tcp/${port} open without a listener`).toBe(true);
    }
    // Same states: the open sets differ at most by listeners that came or went during the runs.
    const churn = new Set([...ever].filter((port) => !always.has(port)));
    const differ = [...openPorts(limitedResult.hosts[0]!)].filter((port) => !openPorts(freeResult.hosts[0]!).has(port));
    expect(differ.filter((port) => !churn.has(port))).toEqual([]);
  });

  it.each([
    [['scan', '127.0.0.1', '--ports', '70000'], /--ports "70000": port 70000 is outside 1-65535/],
    [['scan', '127.0.0.1', '--ports', '10-5'], /reversed/],
    [['scan', '127.0.0.1', '--ports', 'abc'], /not a port number/],
    [['scan', '127.0.0.1', '--ports', '0'], /outside/],
    [['scan', '300.1.1.1'], /target "300.1.1.1": malformed IP address/],
    [['scan', '198.18.0.0/8'], /--max-hosts/],
    [['scan', '127.0.0.1', '--profile', 'turbo'], /--profile "turbo"/],
    [['scan', '127.0.0.1', '--max-rate', 'lots'], /--max-rate "lots"/],
  ])('%j -> one line on stderr, exit 2', async (args, message) => {
    const { code, stderr, stdout } = await runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('Ctrl-C writes what was scanned, marked incomplete, and exits 130', async ({ onTestFinished }) => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-sigint-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const output = join(dir, 'partial.json');
    // gentle: 300 connections a second, so a full sweep takes minutes and the interrupt lands mid-scan.
    const child = spawn(process.execPath, [CLI, 'scan', '127.0.0.1', '--format', 'json', '--output', output], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Long enough for a start-up slowed by a loaded machine (at 300/s the sweep is far from done).
    await new Promise((resolve) => setTimeout(resolve, 4000));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted/);
    expect(existsSync(output)).toBe(true);
    const result = JSON.parse(readFileSync(output, 'utf8')) as ScanResult;
    expect(result.complete).toBe(false);
    expect(result.incompleteReason).toMatch(/SIGINT/);
    const host = result.hosts[0]!;
    expect(host.complete).toBe(false);
    const counts = countStates(host);
    const decided = Object.values(counts).reduce((sum, count) => sum + count, 0);
    expect(decided).toBeGreaterThan(50);
    expect(decided).toBeLessThan(65535);
    expect(result.parameters).toMatchObject({ profile: 'gentle', caps: { maxConcurrency: 32, maxRatePerSecond: 300 } });
  });
});
