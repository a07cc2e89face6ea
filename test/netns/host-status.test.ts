/**
 * Host status on namespace targets: an address with no host behind it (no ARP answer), an
 * unreachable route, a host that drops everything, and a host behind a firewall that drops all
 * but one port (up), over IPv4 and IPv6 (no NDP answer; an unreachable /128). The built CLI
 * gives exit 3 with one host finding, and --assume-up gives the missing-listener findings back.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROFILES } from '../../src/defaults.js';
import { createTestHost, type TestHost } from '../../src/emulator/netns.js';
import { parseResultText } from '../../src/report/parse-result.js';
import { scanHosts } from '../../src/scan/engine.js';
import type { HostScan } from '../../src/model/port-state.js';
import { planUdpProbes } from '../../src/scan/udp-plan.js';
import { describeNetns } from '../helpers/netns.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'bin', 'portmatrix.js');
/** Short timeouts: silence is what most of these hosts give. As root the scan type is the default, SYN. */
const CAPS = { ...PROFILES.fast, maxRetries: 1, initialRttTimeoutMs: 300, maxRttTimeoutMs: 300 };
const QUICK = ['--udp', 'none', '--checks', 'none', '--profile', 'fast', '--max-retries', '1', '--initial-rtt-timeout', '300', '--max-rtt-timeout', '300', '--no-progress'];
/** An IPv6 host firewall lets neighbour discovery through (IPv6's ARP); without it the host is not even on the link. */
const NEIGHBOUR_DISCOVERY = 'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept;';
const dir = mkdtempSync(join(tmpdir(), 'portmatrix-host-status-'));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO, timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

async function scanOne(address: string, family: 4 | 6, options: { tcp?: number[]; udp?: number[] } = {}): Promise<HostScan> {
  const { hosts } = await scanHosts({
    targets: [{ target: address, address, family }],
    plan: { tcp: (options.tcp ?? [22, 80, 443, 5060]).map((port) => ({ start: port, end: port })), udp: planUdpProbes(options.udp ?? []) },
    caps: CAPS,
    seed: 7,
  });
  return hosts[0]!;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const family of [4, 6] as const) describeNetns(`host status on namespace targets (IPv${family})`, () => {
  let host: TestHost;
  let routeless: TestHost;
  let address: string;

  beforeAll(async () => {
    [host, routeless] = await Promise.all([createTestHost({ label: `host-status-v${family}` }), createTestHost({ label: `host-status-route-v${family}` })]);
    address = family === 6 ? host.address6 : host.address;
  });

  afterAll(async () => {
    await Promise.all([host?.destroy(), routeless?.destroy()]);
  });

  it('a host behind a firewall that drops all but one port is up; one closed UDP port is enough too', async () => {
    await host.nft(`
table inet portmatrix_host_status {
  chain input { type filter hook input priority 0; policy drop; ${NEIGHBOUR_DISCOVERY} tcp dport 443 accept; udp dport 7003 accept; }
}`);
    const tcp = await scanOne(address, family);
    expect(tcp.folded).toEqual([{ transport: 'tcp', state: 'filtered', reason: 'no-response', count: 3 }]);
    expect(tcp.observations).toMatchObject([{ port: 443, state: 'closed', reason: 'conn-refused' }]);
    expect(tcp.status).toEqual({ state: 'up', reason: 'port-answered' });
    const udp = await scanOne(address, family, { tcp: [], udp: [7001, 7002, 7003] });
    // The one closed port may be listed or folded (src/scan/fold.ts): either way it answered.
    const closed = [...udp.observations, ...udp.folded].filter((entry) => entry.state === 'closed' && entry.reason === 'icmp-port-unreach');
    expect(closed).toHaveLength(1);
    expect(udp.status).toEqual({ state: 'up', reason: 'port-answered' });
  });

  it('a host that drops everything is down (no-response), over TCP and UDP', async () => {
    await host.nft('flush table inet portmatrix_host_status');
    await host.nft(`
table inet portmatrix_host_status {
  chain input { type filter hook input priority 0; policy drop; ${NEIGHBOUR_DISCOVERY} }
}`);
    expect((await scanOne(address, family)).status).toEqual({ state: 'down', reason: 'no-response' });
    expect((await scanOne(address, family, { tcp: [], udp: [7001, 7003] })).status).toEqual({ state: 'down', reason: 'no-response' });
  });

  it('an unreachable route: unreachable (no-route), no probe sent', async () => {
    await routeless.blockRoute(family);
    const scan = await scanOne(family === 6 ? routeless.address6 : routeless.address, family);
    expect(scan.status).toEqual({ state: 'unreachable', reason: 'no-route' });
    expect(scan.observations).toEqual([]);
  });

  it('an address with nobody behind it: exit 3, one host finding, no listener findings; --assume-up judges it anyway', async () => {
    await host.nft('delete table inet portmatrix_host_status');
    // The address leaves the namespace: the caller's ARP (NDP) requests go unanswered.
    const prefixLength = family === 6 ? host.prefixLength6 : host.prefixLength;
    await host.exec(['ip', `-${family}`, 'addr', 'del', `${address}/${prefixLength}`, 'dev', host.targetLink]);
    const base = ['scan', family === 6 ? `[${address}]` : address, '--matrix', 'ip-office-9.1', '--ports', 'matrix', ...QUICK, '--format', 'json'];

    const down = await runCli([...base, '--output', join(dir, 'down.json')]);
    expect(down.code).toBe(3);
    const result = parseResultText(readFileSync(join(dir, 'down.json'), 'utf8'), 'down.json');
    // The namespace tests run as root: the default scan type, SYN, is the one tested here.
    expect(result.parameters.scanType).toBe('syn');
    expect(result.hosts[0]!.status.state).toBe('down');
    expect(['host-unreach', 'no-response']).toContain(result.hosts[0]!.status.reason);
    expect(result.conformance!.findings).toEqual([]);
    expect(result.hosts[0]!.address).toBe(address);
    expect(result.conformance!.hostFindings.map((finding) => `${finding.kind} ${finding.host}`)).toEqual([`host-not-up ${address}`]);
    expect(down.stdout).toMatch(/Hosts not judged \(1\)/);

    const assumed = await runCli([...base, '--assume-up', '--output', join(dir, 'assumed.json')]);
    expect(assumed.code).toBe(1);
    const judged = parseResultText(readFileSync(join(dir, 'assumed.json'), 'utf8'), 'assumed.json');
    expect(judged.hosts[0]!.status).toMatchObject({ state: 'up', assumed: true });
    expect(judged.conformance!.hostFindings).toEqual([]);
    expect(judged.conformance!.findings.filter((finding) => finding.kind === 'missing-listener').length).toBeGreaterThan(0);
  }, 120_000);
});
