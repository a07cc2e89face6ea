/**
 * The test-host kit's IPv6 side: each host has a /64 of fd70:6d74:6573::/48 whose fourth group is
 * its IPv4 /30's index (one claim for both), usable at once (nodad: no DAD wait), and
 * blockRoute(6)'s unreachable /128 goes with destroy() or, when the creating process died,
 * with removeStaleTestHosts().
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLAIM_DIR, createTestHost, removeStaleTestHosts, type TestHost } from '../../src/emulator/netns.js';
import { describeNetns } from '../helpers/netns.js';

/** The built kit (npm run build), for a child process that dies without cleaning up. */
const NETNS_MODULE = join(import.meta.dirname, '..', '..', 'dist', 'src', 'emulator', 'netns.js');

function unreachableRoutes6(): string {
  return execFileSync('ip', ['-6', 'route', 'show', 'type', 'unreachable'], { encoding: 'utf8' });
}

/** Whether a TCP connect to address:port completes within 2 s. */
function connects(address: string, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: address, port, timeout: 2_000 });
    const done = (connected: boolean): void => {
      socket.destroy();
      resolve(connected);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Claim files naming `name` (one per claimed subnet). */
function claimsOf(name: string): string[] {
  if (!existsSync(CLAIM_DIR)) return [];
  return readdirSync(CLAIM_DIR).filter((file) => {
    try {
      return readFileSync(join(CLAIM_DIR, file), 'utf8').includes(` ${name}`);
    } catch {
      return false; // removed meanwhile by another process
    }
  });
}

describeNetns('test hosts over IPv6', () => {
  let first: TestHost;
  let second: TestHost;

  beforeAll(async () => {
    [first, second] = await Promise.all([createTestHost({ label: 'kit-v6-a' }), createTestHost({ label: 'kit-v6-b' })]);
  });

  afterAll(async () => {
    await Promise.all([first?.destroy(), second?.destroy()]);
  });

  it('one /64 per host in fd70:6d74:6573::/48, indexed like its /30, answering at once (no DAD wait)', async () => {
    for (const host of [first, second]) {
      const octets = host.address.split('.').map(Number);
      const index = ((octets[1]! - 18) * 65536 + octets[2]! * 256 + octets[3]!) >> 2;
      const group = index === 0 ? '' : index.toString(16);
      expect(host.address6).toBe(`fd70:6d74:6573:${group}::2`.replace(':::', '::'));
      expect(host.peerAddress6).toBe(host.address6.replace(/::2$/, '::1'));
      expect(host.prefixLength6).toBe(64);
      // Neither end waits for duplicate address detection.
      const inside = (await host.exec(['ip', '-6', 'addr', 'show', 'dev', host.targetLink])).stdout;
      expect(inside).toMatch(new RegExp(`inet6 ${host.address6}/64 scope global nodad`));
      expect(inside).not.toMatch(new RegExp(`${host.address6}/64[^\\n]*tentative`));
    }
    expect(first.address6).not.toBe(second.address6);
    // A listener inside answers over IPv6 right away, and only on its own host.
    const child = first.spawn([process.execPath, '-e', `require('net').createServer(s=>s.destroy()).listen(7100,'${first.address6}',()=>console.log('up'))`]);
    await once(createInterface({ input: child.stdout! }), 'line');
    expect(await connects(first.address6, 7100)).toBe(true);
    expect(await connects(second.address6, 7100)).toBe(false);
  });

  it('blockRoute(6): an unreachable /128 in the caller namespace, gone after destroy()', async () => {
    const host = await createTestHost({ label: 'kit-v6-route' });
    try {
      await host.blockRoute(6);
      expect(unreachableRoutes6()).toContain(`unreachable ${host.address6} `);
      expect(await connects(host.address6, 7100)).toBe(false);
    } finally {
      await host.destroy();
    }
    expect(unreachableRoutes6()).not.toContain(`unreachable ${host.address6} `);
  });

  it('removeStaleTestHosts(): the IPv6 unreachable route of a killed process goes with its namespace and claim', async () => {
    const program = `import(${JSON.stringify(NETNS_MODULE)}).then(async (m) => { const h = await m.createTestHost({ label: 'kit-v6-stale' }); await h.blockRoute(6); console.log(JSON.stringify({ name: h.name, address6: h.address6 })); setInterval(() => {}, 1e6); })`;
    const child = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const stale = JSON.parse(line) as { name: string; address6: string };
    expect(claimsOf(stale.name)).toHaveLength(1);
    // SIGKILL: the child's exit hooks cannot clean up; what it made is stale now.
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(unreachableRoutes6()).toContain(`unreachable ${stale.address6} `);
    const removed = await removeStaleTestHosts();
    expect(removed).toEqual(expect.arrayContaining([stale.name, `unreachable ${stale.address6}`]));
    expect(unreachableRoutes6()).not.toContain(`unreachable ${stale.address6} `);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(stale.name);
    expect(claimsOf(stale.name)).toEqual([]);
    // Hosts of this live process are untouched.
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).toContain(first.name);
  });
});
