import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkLoss, checkMeasurement, impairPath, measurePathBeside, readLossCounters } from '../../src/emulator/impairment.js';
import { CLAIM_DIR, createTestHost, removeStaleTestHosts } from '../../src/emulator/netns.js';
import type { TestHost } from '../../src/emulator/netns.js';
import { describeNetns, IMPAIRMENT_TOOLS } from '../helpers/netns.js';
import { runNmapSync } from '../helpers/nmap.js';

/** A TCP listener on the given ports and a UDP echo on port 7, inside the namespace. */
const SERVICE_SCRIPT = `
const net = require('node:net'); const dgram = require('node:dgram');
const [address, ...ports] = process.argv.slice(1);
let pending = ports.length + 1;
const ready = () => { if (--pending === 0) process.stdout.write('ready\\n'); };
for (const port of ports) net.createServer((s) => s.end()).listen(Number(port), address, ready);
const echo = dgram.createSocket('udp4');
echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
echo.bind(7, address, ready);
`;

async function startServices(host: TestHost, ports: number[]): Promise<number> {
  const child = host.spawn([process.execPath, '-e', SERVICE_SCRIPT, host.address, ...ports.map(String)]);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('services did not start in 5 s')), 5_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`services exited with ${String(code)}`)));
  });
  return child.pid ?? -1;
}

type ConnectOutcome = 'connected' | 'timeout' | string;

function connectTcp(address: string, port: number, timeoutMs: number): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

/**
 * Sends `count` numbered datagrams to the UDP echo, 50 at a time, and returns how many came
 * back. After each batch it waits (up to 5 s) for every reply not `dropped()` by a rule: a
 * starved echo is late, not lossy, and with at most 50 datagrams outstanding no socket buffer
 * overflows, so only the rule can lose a datagram however loaded the machine is.
 */
async function countUdpEchoes(address: string, count: number, dropped: () => Promise<number>): Promise<number> {
  const socket = dgram.createSocket('udp4');
  const seen = new Set<number>();
  socket.on('message', (msg) => seen.add(msg.readUInt32BE(0)));
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  for (let id = 0; id < count; id += 1) {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(id, 0);
    socket.send(payload, 7, address);
    if (id % 50 === 49 || id === count - 1) {
      const deadline = Date.now() + 5_000;
      while (seen.size < id + 1 - (await dropped()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  // A moment more, so that replies beyond what is due (a rule not dropping) are counted too.
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.close();
  return seen.size;
}

/** The packets counted by the two counters of the kit_loss rule: (arrived, dropped). */
async function lossRuleCounts(host: TestHost): Promise<{ arrived: number; dropped: number }> {
  const listed = await host.exec(['nft', '-j', 'list', 'table', 'inet', 'kit_loss']);
  const rule = (JSON.parse(listed.stdout) as { nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[] }).nftables.find((item) => item.rule);
  const [arrived = 0, dropped = 0] = (rule?.rule?.expr ?? []).flatMap((expr) => (expr.counter ? [expr.counter.packets] : []));
  return { arrived, dropped };
}

/** A measurement's figures, rounded, as the message of a failed expectation. */
function figures(measured: object): string {
  return JSON.stringify(measured, (_key, value: unknown) => (typeof value === 'number' ? Math.round(value * 100) / 100 : value));
}

function namespaceNames(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
}

function claimedNames(): string[] {
  if (!existsSync(CLAIM_DIR)) return [];
  return readdirSync(CLAIM_DIR).map((file) => readFileSync(`${CLAIM_DIR}/${file}`, 'utf8').trim().split(' ')[1] ?? '');
}

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeNetns('test-host kit (network namespace)', () => {
  let host: TestHost;
  let servicePid = -1;

  beforeAll(async () => {
    host = await createTestHost({ label: 'kit test' });
    servicePid = await startServices(host, [8080, 8081, 8082]);
  });

  afterAll(async () => {
    await host?.destroy();
  });

  it('gives each host its own /30 in 198.18.0.0/15 and pid-tagged names', async () => {
    expect(host.address).toMatch(/^198\.1[89]\./);
    expect(host.name).toBe(`pm${process.pid}n${/n(\d+)$/.exec(host.name)?.[1]}`);
    expect(host.hostLink.length).toBeLessThanOrEqual(15);
    const second = await createTestHost({ label: 'second' });
    try {
      expect(second.address).not.toBe(host.address);
      const [a, b] = [host.address, second.address].map((text) => Number(text.split('.').reduce((n, p) => n * 256 + Number(p), 0)));
      expect(Math.floor((a ?? 0) / 4)).not.toBe(Math.floor((b ?? 0) / 4));
      const lo = await second.exec(['ip', '-o', 'link', 'show', 'lo']);
      expect(lo.stdout).toMatch(/UP/);
    } finally {
      await second.destroy();
    }
  });

  it('reaches a listener inside the namespace', async () => {
    expect(await connectTcp(host.address, 8080, 2_000)).toBe('connected');
    expect(await connectTcp(host.address, 9, 2_000)).toBe('ECONNREFUSED');
  });

  it('DROP rule: a TCP connect times out; REJECT tcp reset: ECONNREFUSED despite a listener', async () => {
    await host.nft(`
      table inet kit_test {
        chain input {
          type filter hook input priority 0; policy accept;
          tcp dport 8081 drop
          tcp dport 8082 reject with tcp reset
        }
      }
    `);
    try {
      expect(await connectTcp(host.address, 8081, 1_500)).toBe('timeout');
      expect(await connectTcp(host.address, 8082, 1_500)).toBe('ECONNREFUSED');
      expect(await connectTcp(host.address, 8080, 1_500)).toBe('connected');
    } finally {
      await host.exec(['nft', 'delete', 'table', 'inet', 'kit_test']);
    }
    expect(await connectTcp(host.address, 8081, 1_500)).toBe('connected');
  });

  it('a numgen loss rule drops about the configured share of packets (measured)', async () => {
    expect(await countUdpEchoes(host.address, 400, async () => 0)).toBe(400);
    await host.nft(`
      table inet kit_loss {
        chain input {
          type filter hook input priority -300; policy accept;
          udp dport 7 counter numgen random mod 100 < 20 counter drop
        }
      }
    `);
    try {
      const echoed = await countUdpEchoes(host.address, 1_000, async () => (await lossRuleCounts(host)).dropped);
      const { arrived, dropped } = await lossRuleCounts(host);
      expect(arrived).toBe(1_000);
      // 1000 draws at p = 0.2: standard deviation 1.3 %, so 14-26 % is about 4.5 sigma.
      expect(dropped / arrived).toBeGreaterThan(0.14);
      expect(dropped / arrived).toBeLessThan(0.26);
      // End to end: exactly what the rule let through came back, nothing else was lost.
      expect(echoed).toBe(arrived - dropped);
    } finally {
      await host.exec(['nft', 'delete', 'table', 'inet', 'kit_loss']);
    }
  });

  it('impairPath: 20 ms +- 5 ms delay and 2 % loss are measured in effect, and clear() removes them', async () => {
    const impaired = await impairPath(host, { delayMs: 20, jitterMs: 5, lossPercent: 2 });
    try {
      // An independent measurement, to the open listener this time (SYN-ACK instead of RST).
      // Delays uniform on 15-25 ms: load only adds to a round trip, so nothing may come back in
      // under 15 ms and the median not under 20 (1000 draws: the median strays about 0.16 ms).
      const lossBefore = await readLossCounters(host);
      const { path, reference } = await measurePathBeside(host, { port: 8080, probes: 1_000 });
      const lossAfter = await readLossCounters(host);
      expect(path.rttMinMs).toBeGreaterThan(14.9);
      expect(path.rttP50Ms).toBeGreaterThan(19.4);
      expect(path.rttP75Ms - path.rttP25Ms).toBeGreaterThan(3);
      // Not more than asked: the fastest round trip is little more than 15 ms, within what the
      // reference probed in the same rounds shows at its fast end.
      expect(path.rttMinMs).toBeLessThan(15 + 3 + reference.rttP25Ms);
      // 2 % of round trips: 1.005 % of the packets each way; over >= 2000 packets (SYN in, answer out) sd <= 0.22 %.
      const seen = lossAfter.seen - lossBefore.seen;
      expect(seen).toBeGreaterThanOrEqual(2_000);
      expect((lossAfter.dropped - lossBefore.dropped) / seen).toBeGreaterThan(0.0012);
      expect((lossAfter.dropped - lossBefore.dropped) / seen).toBeLessThan(0.019);
    } finally {
      await impaired.clear();
    }
    // Cleared: no loss rule left to count, and a round trip well under the 15 ms a delay left in place would take.
    expect(await readLossCounters(host)).toEqual({ seen: 0, dropped: 0 });
    const after = await measurePathBeside(host, { port: 8080, probes: 200 });
    expect(after.path.answered).toBe(200);
    expect(after.path.rttMinMs).toBeLessThan(10);
  });

  it('the measurement check holds with two CPU hogs running and still catches a path without the delay or loss asked for', async () => {
    const hogs = [0, 1].map(() => spawn('yes', [], { stdio: 'ignore' }));
    try {
      const impaired = await impairPath(host, { delayMs: 20, jitterMs: 5, lossPercent: 2 });
      try {
        // Correct under load, and more delay than a smaller request allows is caught.
        const measured = await measurePathBeside(host, { port: 9, probes: 300 });
        expect(checkMeasurement({ delayMs: 20, jitterMs: 5 }, measured), figures(measured)).toBeNull();
        expect(checkMeasurement({ delayMs: 5 }, measured), figures(measured)).toMatch(/^fastest round trip 1\d\.\d\d ms, expected at most/);
      } finally {
        await impaired.clear();
      }
      // The same path, not impaired, measured under the same load: a 20 ms check must fail, and so must a loss check.
      const plain = await measurePathBeside(host, { port: 9, probes: 300 });
      expect(checkMeasurement({ delayMs: 20, jitterMs: 5 }, plain), figures(plain)).toMatch(/^fastest round trip only/);
      expect(checkLoss(2, await readLossCounters(host))).toMatch(/^0 of 0 packets dropped/);
      // A path delayed by less than asked: 5 ms where 20 +- 5 was asked.
      const short = await impairPath(host, { delayMs: 5 });
      try {
        const measured = await measurePathBeside(host, { port: 9, probes: 300 });
        expect(checkMeasurement({ delayMs: 5 }, measured), figures(measured)).toBeNull();
        expect(checkMeasurement({ delayMs: 20, jitterMs: 5 }, measured), figures(measured)).toMatch(/^fastest round trip only/);
      } finally {
        await short.clear();
      }
    } finally {
      for (const hog of hogs) hog.kill('SIGKILL');
    }
  });

  it('the delayer keeps up with a full-range scan: nmap -sT -p- through 20 ms delay sees every port closed', async () => {
    const impaired = await impairPath(host, { delayMs: 20, jitterMs: 5 });
    try {
      const nmap = runNmapSync(['-sT', '-p', '10000-65535', '-T4', '-n', '-Pn', host.address], { timeoutMs: 60_000 });
      expect(nmap.status, nmap.stderr).toBe(0);
      const output = nmap.stdout;
      expect(output).toMatch(/Not shown: 55536 closed tcp ports/);
      expect(output).not.toMatch(/filtered/);
    } finally {
      await impaired.clear();
    }
  });

  it('destroy() leaves no namespace, link, process or subnet claim behind', async () => {
    const victim = await createTestHost({ label: 'destroy test' });
    const pid = await startServices(victim, [8080]);
    // A process started by exec-and-detach (not tracked by spawn) must go too.
    const detached = spawn('ip', ['netns', 'exec', victim.name, 'sleep', '60'], { detached: true, stdio: 'ignore' });
    detached.unref();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(namespaceNames()).toContain(victim.name);
    expect(linkExists(victim.hostLink)).toBe(true);
    await victim.destroy();
    await victim.destroy();
    expect(namespaceNames()).not.toContain(victim.name);
    expect(linkExists(victim.hostLink)).toBe(false);
    expect(processExists(pid)).toBe(false);
    expect(claimedNames()).not.toContain(victim.name);
    await expect(victim.exec(['true'])).rejects.toThrow(/destroyed/);
    // The first host is untouched by the other's teardown.
    expect(processExists(servicePid)).toBe(true);
  });

  it('removeStaleTestHosts() removes hosts of dead processes and nothing else', async () => {
    const dead = spawn('true');
    const deadPid = await new Promise<number>((resolve) => dead.once('exit', () => resolve(dead.pid ?? 0)));
    const staleName = `pm${deadPid}n0`;
    execFileSync('ip', ['netns', 'add', staleName]);
    execFileSync('ip', ['link', 'add', `pm${deadPid}h0`, 'type', 'veth', 'peer', 'name', `pm${deadPid}t0`, 'netns', staleName]);
    try {
      const removed = await removeStaleTestHosts();
      expect(removed).toContain(staleName);
      expect(namespaceNames()).not.toContain(staleName);
      expect(linkExists(`pm${deadPid}h0`)).toBe(false);
      expect(namespaceNames()).toContain(host.name);
    } finally {
      try {
        execFileSync('ip', ['netns', 'del', staleName], { stdio: 'ignore' });
      } catch {
        // removed by the code under test
      }
    }
  });
}, ['nmap', ...IMPAIRMENT_TOOLS]);
