/**
 * Test hosts: a Linux network namespace joined to the caller's namespace by a veth pair with
 * one /30 of 198.18.0.0/15 (the benchmarking range) and one /64 of a ULA prefix of our own
 * (netns-subnets.ts), so tests, the demo and the benchmark scan a real kernel over IPv4 and
 * IPv6 with real firewall rules and never anything outside those ranges.
 *
 * Names carry the creating pid (namespace pm<pid>n<k>, links pm<pid>h<k> / pm<pid>t<k>), so
 * concurrent runs never touch each other's hosts and removeStaleTestHosts() can tell which
 * hosts belong to a process that no longer exists.
 *
 * Needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN) and iproute2; nftables for nft().
 */
import { spawn as spawnChild } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { findExecutable } from '../util/find-executable.js';
import { isAlive, linkNameFor, removeHostSync, run, runSync, safeUnlink, type ExecOptions, type ExecResult } from './netns-commands.js';
import {
  CLAIM_DIR,
  PREFIX_LENGTH,
  PREFIX_LENGTH_6,
  claimBlock,
  claimPathOf,
  readClaim,
  subnetAddresses,
  subnetNetwork,
  subnetOf,
} from './netns-subnets.js';

export { CLAIM_DIR } from './netns-subnets.js';
export type { ExecOptions, ExecResult } from './netns-commands.js';

const NAME_PATTERN = /^pm(\d+)[nht](\d+)$/;
const PROCESS_STOP_GRACE_MS = 2_000;

export interface TestHost {
  /** Namespace name (pm<pid>n<k>). */
  readonly name: string;
  /** The host's address inside the namespace (198.18.x.y): the address to scan. */
  readonly address: string;
  /** The caller's side of the veth pair: the scanner's source address. */
  readonly peerAddress: string;
  readonly prefixLength: number;
  /** The host's IPv6 address (fd70:6d74:6573:k::2, canonical text) and the caller's (k::1), in one /64. */
  readonly address6: string;
  readonly peerAddress6: string;
  readonly prefixLength6: number;
  /** The block routed into the namespace (routedBlockPrefix), "198.19.4.0/24"; every address in it answers. */
  readonly routedBlock?: string;
  /** Link names: hostLink lives in the caller's namespace, targetLink inside the test host. */
  readonly hostLink: string;
  readonly targetLink: string;
  /** Runs a command inside the namespace and waits for it. Throws on a non-zero exit unless allowFailure. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running process inside the namespace; destroy() stops it. */
  spawn(argv: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Applies an nftables ruleset (nft -f) inside the namespace. */
  nft(ruleset: string): Promise<void>;
  /**
   * Makes the host's address of that family (default 4) unreachable from the caller: an
   * `unreachable` /32 or /128 route in the caller's namespace (the stack refuses at once; no
   * packet leaves). destroy() removes it.
   */
  blockRoute(family?: 4 | 6): Promise<void>;
  /** Removes processes, rules, links and the namespace. Safe to call twice and after failures. */
  destroy(): Promise<void>;
}

export interface CreateTestHostOptions {
  /** Shown in errors and debugging output only. */
  label?: string;
  /**
   * Also route a whole block (prefix length 16-29, e.g. 24) into the namespace, where every
   * address of it is local (AnyIP): one namespace answers as a fleet of hosts. Claimed like the
   * host's own /30, so no other test host ever gets an address inside it.
   */
  routedBlockPrefix?: number;
}

interface HostRecord {
  name: string;
  hostLink: string;
  claimPaths: string[];
  children: Set<ChildProcess>;
  destroyed: boolean;
  /** Unreachable routes (/32 or /128) added in the caller's namespace by blockRoute(). */
  blockedRoutes: Set<string>;
}

const liveHosts = new Set<HostRecord>();
let hostCounter = 0;
let exitHooksInstalled = false;

function removeBlockedRoutesSync(record: HostRecord): void {
  for (const route of record.blockedRoutes) runSync('ip', [route.includes(':') ? '-6' : '-4', 'route', 'del', 'unreachable', route]);
  record.blockedRoutes.clear();
}

function cleanupAllSync(): void {
  for (const record of liveHosts) {
    for (const child of record.children) child.kill('SIGKILL');
    removeBlockedRoutesSync(record);
    removeHostSync(record.name, record.hostLink);
    for (const claimPath of record.claimPaths) safeUnlink(claimPath);
    record.destroyed = true;
  }
  liveHosts.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupAllSync();
  // When nobody else handles the signal, keep its default meaning (terminate with it).
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once('exit', cleanupAllSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The commands a namespace target runs, with the Debian package of each. */
export const NAMESPACE_TOOLS = [
  { command: 'ip', package: 'iproute2' },
  { command: 'nft', package: 'nftables' },
] as const;

/** Why a namespace target cannot be made here (not root, or tools missing), with what to do; undefined when it can. */
export function namespaceUnavailable(): string | undefined {
  if (!isRoot()) return 'not root: network namespaces need root';
  const missing = NAMESPACE_TOOLS.filter((tool) => !findExecutable(tool.command));
  if (missing.length === 0) return undefined;
  const packages = missing.map((tool) => tool.package).join(' ');
  return `${missing.map((tool) => tool.command).join(' and ')} not found; for the namespace target install ${packages} (apt-get install ${packages})`;
}

/** Creates a namespace with a veth pair in its own /30 of 198.18.0.0/15 and /64 of the ULA prefix, loopback up. */
export async function createTestHost(options: CreateTestHostOptions = {}): Promise<TestHost> {
  const unavailable = namespaceUnavailable();
  if (unavailable) throw new Error(`cannot create a test host: ${unavailable}`);
  installExitHooks();
  const k = hostCounter;
  hostCounter += 1;
  const name = `pm${process.pid}n${k}`;
  const hostLink = linkNameFor(name, 'h');
  const targetLink = linkNameFor(name, 't');
  if (hostLink.length > 15) throw new Error(`link name ${hostLink} is longer than 15 characters`);
  // A leftover of an earlier process that had our pid carries our names: it is ours to replace.
  removeHostSync(name, hostLink);
  const { index, claimPaths } = claimBlock(name, 1, k);
  const addresses = subnetAddresses(index);
  const record: HostRecord = { name, hostLink, claimPaths, children: new Set(), destroyed: false, blockedRoutes: new Set() };
  const blockPrefix = options.routedBlockPrefix;
  if (blockPrefix !== undefined && (!Number.isInteger(blockPrefix) || blockPrefix < 16 || blockPrefix > 29)) {
    throw new Error(`routedBlockPrefix ${blockPrefix}: expected 16-29`);
  }
  let routedBlock: string | undefined;
  if (blockPrefix !== undefined) {
    const block = claimBlock(name, 2 ** (30 - blockPrefix), k);
    record.claimPaths.push(...block.claimPaths);
    routedBlock = `${subnetNetwork(block.index)}/${blockPrefix}`;
  }
  liveHosts.add(record);

  const label = options.label ? ` (${options.label})` : '';
  try {
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', targetLink, 'netns', name]);
    await configureLink(hostLink, [], { address: addresses.peer, address6: addresses.peer6 });
    const inside = ['netns', 'exec', name];
    await run('ip', [...inside, 'ip', 'link', 'set', 'lo', 'up']);
    await configureLink(targetLink, inside, { address: addresses.host, address6: addresses.host6 });
    if (routedBlock !== undefined) {
      await run('ip', ['route', 'add', routedBlock, 'via', addresses.host, 'dev', hostLink]);
      await run('ip', [...inside, 'ip', 'route', 'add', 'local', routedBlock, 'dev', 'lo']);
    }
  } catch (error) {
    await destroyRecord(record);
    throw new Error(`cannot create test host ${name}${label}: ${(error as Error).message}`, { cause: error });
  }

  const host: TestHost = {
    name,
    address: addresses.host,
    peerAddress: addresses.peer,
    prefixLength: PREFIX_LENGTH,
    address6: addresses.host6,
    peerAddress6: addresses.peer6,
    prefixLength6: PREFIX_LENGTH_6,
    ...(routedBlock === undefined ? {} : { routedBlock }),
    hostLink,
    targetLink,
    exec: async (argv, execOptions) => {
      assertLive(record);
      return run('ip', ['netns', 'exec', name, ...argv], execOptions);
    },
    spawn: (argv, spawnOptions) => {
      assertLive(record);
      const child = spawnChild('ip', ['netns', 'exec', name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
      record.children.add(child);
      child.once('exit', () => record.children.delete(child));
      return child;
    },
    nft: async (ruleset) => {
      assertLive(record);
      await run('ip', ['netns', 'exec', name, 'nft', '-f', '-'], { input: ruleset });
    },
    blockRoute: async (family = 4) => {
      assertLive(record);
      const route = family === 6 ? `${addresses.host6}/128` : `${addresses.host}/32`;
      record.blockedRoutes.add(route);
      await run('ip', [`-${family}`, 'route', 'replace', 'unreachable', route]);
    },
    destroy: () => destroyRecord(record),
  };
  return host;
}

/**
 * Addresses one end of the veth pair (`inside`: the ip netns exec prefix, or none for the
 * caller's end) and brings it up. IPv6 addresses are `nodad`: usable at once, without the
 * second of duplicate address detection (nobody else is on a veth pair).
 */
async function configureLink(link: string, inside: readonly string[], addresses: { address: string; address6: string }): Promise<void> {
  const ip = inside.length > 0 ? [...inside, 'ip'] : [];
  const command = (args: string[]): Promise<ExecResult> => run('ip', [...ip, ...args]);
  await command(['addr', 'add', `${addresses.address}/${PREFIX_LENGTH}`, 'dev', link]);
  await command(['-6', 'addr', 'add', `${addresses.address6}/${PREFIX_LENGTH_6}`, 'dev', link, 'nodad']);
  await command(['link', 'set', link, 'up']);
}

function assertLive(record: HostRecord): void {
  if (record.destroyed) throw new Error(`test host ${record.name} was destroyed`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

async function destroyRecord(record: HostRecord): Promise<void> {
  if (record.destroyed) return;
  record.destroyed = true;
  await Promise.all([...record.children].map(stopChild));
  // Whatever else runs inside (grandchildren, processes started by exec) is killed here.
  removeBlockedRoutesSync(record);
  removeHostSync(record.name, record.hostLink);
  for (const claimPath of record.claimPaths) safeUnlink(claimPath);
  liveHosts.delete(record);
}

/**
 * Removes test hosts (namespaces, host-side links, subnet claims) whose creating process is dead:
 * the leftovers of a crashed or killed run. Hosts of live processes are never touched.
 */
export async function removeStaleTestHosts(): Promise<string[]> {
  if (!isRoot()) return [];
  const removed: string[] = [];
  const namespaces = (await run('ip', ['netns', 'list'], { allowFailure: true })).stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => /^pm\d+n\d+$/.test(name));
  for (const name of namespaces) {
    const pid = Number(NAME_PATTERN.exec(name)?.[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    removeHostSync(name, linkNameFor(name, 'h'));
    removed.push(name);
  }
  // Host-side links whose namespace is already gone.
  const links = (await run('ip', ['-o', 'link', 'show'], { allowFailure: true })).stdout;
  for (const match of links.matchAll(/^\d+: (pm\d+h\d+)[@:]/gm)) {
    const link = match[1] ?? '';
    const pid = Number(NAME_PATTERN.exec(link)?.[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    runSync('ip', ['link', 'del', link]);
    if (!removed.includes(link)) removed.push(link);
  }
  let claims: string[] = [];
  try {
    claims = readdirSync(CLAIM_DIR);
  } catch {
    // no claims yet
  }
  for (const file of claims) {
    const claimPath = path.join(CLAIM_DIR, file);
    const owner = readClaim(claimPath);
    if (!owner || (owner.pid !== process.pid && !isAlive(owner.pid))) safeUnlink(claimPath);
  }
  removed.push(...(await removeStaleBlockedRoutes()));
  return removed;
}

/** Unreachable routes of blockRoute() (either family) whose subnet is no longer claimed: their process died. */
async function removeStaleBlockedRoutes(): Promise<string[]> {
  const removed: string[] = [];
  for (const family of ['-4', '-6'] as const) {
    const routes = (await run('ip', [family, '-o', 'route', 'show', 'type', 'unreachable'], { allowFailure: true })).stdout;
    for (const match of routes.matchAll(/^unreachable ([0-9a-f.:]+?)(\/(?:32|128))?\s/gim)) {
      const address = match[1] ?? '';
      const index = subnetOf(address);
      if (index === null || readClaim(claimPathOf(index)) !== null) continue;
      runSync('ip', [family, 'route', 'del', 'unreachable', `${address}${family === '-6' ? '/128' : '/32'}`]);
      removed.push(`unreachable ${address}`);
    }
  }
  return removed;
}
