/**
 * Test hosts: a Linux network namespace joined to the caller's namespace by a veth pair in
 * 198.18.0.0/15 (the benchmarking range), so tests, the demo and the benchmark scan a real
 * kernel with real firewall rules and never anything outside that range.
 *
 * Names carry the creating pid (namespace pm<pid>n<k>, links pm<pid>h<k> / pm<pid>t<k>), so
 * concurrent runs never touch each other's hosts and removeStaleTestHosts() can tell which
 * hosts belong to a process that no longer exists. Each host owns one /30; the /30 is claimed
 * with an exclusive file under CLAIM_DIR before it is configured, so two processes creating
 * hosts at the same moment cannot pick the same subnet.
 *
 * Needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN) and iproute2; nftables for nft().
 */
import { execFile, execFileSync, spawn as spawnChild } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { findExecutable } from '../util/find-executable.js';

/** 198.18.0.0/15 split into /30s: 32768 subnets. */
const RANGE_BASE = ((198 << 24) | (18 << 16)) >>> 0; // unsigned: 198 << 24 alone is a negative int32
const SUBNET_COUNT = 1 << 15;
const PREFIX_LENGTH = 30;
/** Where subnet claims live; /run is cleared at boot, like the namespaces themselves. */
export const CLAIM_DIR = '/run/portmatrix-netns';
const NAME_PATTERN = /^pm(\d+)[nht](\d+)$/;
const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
const PROCESS_STOP_GRACE_MS = 2_000;

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  /** Text written to the command's stdin. */
  input?: string;
  timeoutMs?: number;
  /** Resolve with the exit code instead of throwing when the command fails. */
  allowFailure?: boolean;
}

export interface TestHost {
  /** Namespace name (pm<pid>n<k>). */
  readonly name: string;
  /** The host's address inside the namespace (198.18.x.y): the address to scan. */
  readonly address: string;
  /** The caller's side of the veth pair: the scanner's source address. */
  readonly peerAddress: string;
  readonly prefixLength: number;
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
   * Makes the host's address unreachable from the caller: an `unreachable` /32 route in the
   * caller's namespace (the stack refuses at once; no packet leaves). destroy() removes it.
   */
  blockRoute(): Promise<void>;
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
  /** Unreachable routes added in the caller's namespace by blockRoute(). */
  blockedRoutes: Set<string>;
}

const liveHosts = new Set<HostRecord>();
let hostCounter = 0;
let exitHooksInstalled = false;

function ipv4ToString(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function ipv4ToNumber(text: string): number {
  const parts = text.split('.').map(Number);
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function run(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        if (error && !options.allowFailure) {
          const detail = stderr.trim() || error.message;
          reject(new Error(`${file} ${args.join(' ')} failed (exit ${String(error.code ?? error.signal)}): ${detail}`));
          return;
        }
        resolve({ stdout, stderr, exitCode });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

function runSync(file: string, args: readonly string[]): string | null {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return null;
  }
}

/** Indices of /30s of 198.18.0.0/15 that some interface of this namespace already uses. */
function subnetsInUse(): Set<number> {
  const used = new Set<number>();
  const output = runSync('ip', ['-o', '-4', 'addr', 'show']) ?? '';
  for (const match of output.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/g)) {
    const address = ipv4ToNumber(match[1] ?? '0.0.0.0');
    const prefix = Number(match[2]);
    const size = prefix >= 32 ? 1 : 2 ** (32 - prefix);
    const start = (address - (address % size)) >>> 0;
    for (let offset = 0; offset < size && offset < 2 ** 17; offset += 4) {
      const index = (start + offset - RANGE_BASE) / 4;
      if (index >= 0 && index < SUBNET_COUNT) used.add(Math.floor(index));
    }
  }
  return used;
}

/** Claims a free /30 with an exclusive file; stale claims of dead processes are taken over. */
function claimSubnet(name: string): { index: number; claimPaths: string[] } {
  return claimBlock(name, 1);
}

/**
 * Claims `size` consecutive /30s (a power of two, aligned to it) with one exclusive file each;
 * a partly taken block is given back and the next one tried. Stale claims of dead processes are
 * taken over.
 */
function claimBlock(name: string, size: number): { index: number; claimPaths: string[] } {
  mkdirSync(CLAIM_DIR, { recursive: true, mode: 0o755 });
  const used = subnetsInUse();
  const blocks = SUBNET_COUNT / size;
  // Start at a pid-dependent place so concurrent processes rarely even race for the same file.
  const start = (process.pid * 97 + hostCounter * 13) % blocks;
  for (let step = 0; step < blocks; step += 1) {
    const first = ((start + step) % blocks) * size;
    const claimed: string[] = [];
    for (let index = first; index < first + size; index += 1) {
      const claimPath = used.has(index) ? null : claimOne(name, index);
      if (claimPath === null) break;
      claimed.push(claimPath);
    }
    if (claimed.length === size) return { index: first, claimPaths: claimed };
    for (const claimPath of claimed) safeUnlink(claimPath);
  }
  throw new Error(`no free block of ${size * 4} addresses left in 198.18.0.0/15 for a test host`);
}

/** The claim file of one /30, or null when someone alive holds it. */
function claimOne(name: string, index: number): string | null {
  const claimPath = path.join(CLAIM_DIR, `subnet-${index}`);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(claimPath, 'wx', 0o644);
      writeSync(fd, `${process.pid} ${name}\n`);
      closeSync(fd);
      return claimPath;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readClaim(claimPath);
      if (owner && !isAlive(owner.pid)) {
        removeHostSync(owner.name, linkNameFor(owner.name, 'h'));
        safeUnlink(claimPath);
        continue;
      }
      return null;
    }
  }
  return null;
}

function readClaim(claimPath: string): { pid: number; name: string } | null {
  try {
    const [pid, name] = readFileSync(claimPath, 'utf8').trim().split(/\s+/);
    if (!pid || !name) return null;
    return { pid: Number(pid), name };
  } catch {
    return null;
  }
}

function safeUnlink(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function linkNameFor(namespaceName: string, side: 'h' | 't'): string {
  return namespaceName.replace(/n(\d+)$/, `${side}$1`);
}

/** Kills every process inside a namespace, then removes its links and the namespace (synchronous: usable on exit). */
function removeHostSync(name: string, hostLink: string): void {
  const pids = (runSync('ip', ['netns', 'pids', name]) ?? '').split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  runSync('ip', ['link', 'del', hostLink]);
  runSync('ip', ['netns', 'del', name]);
}

function removeBlockedRoutesSync(record: HostRecord): void {
  for (const route of record.blockedRoutes) runSync('ip', ['route', 'del', 'unreachable', route]);
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

/** Creates a namespace with a veth pair in its own /30 of 198.18.0.0/15, loopback up. */
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
  const { index, claimPaths } = claimSubnet(name);
  const network = RANGE_BASE + index * 4;
  const peerAddress = ipv4ToString(network + 1);
  const address = ipv4ToString(network + 2);
  const record: HostRecord = { name, hostLink, claimPaths, children: new Set(), destroyed: false, blockedRoutes: new Set() };
  const blockPrefix = options.routedBlockPrefix;
  if (blockPrefix !== undefined && (!Number.isInteger(blockPrefix) || blockPrefix < 16 || blockPrefix > 29)) {
    throw new Error(`routedBlockPrefix ${blockPrefix}: expected 16-29`);
  }
  let routedBlock: string | undefined;
  if (blockPrefix !== undefined) {
    const block = claimBlock(name, 2 ** (30 - blockPrefix));
    record.claimPaths.push(...block.claimPaths);
    routedBlock = `${ipv4ToString(RANGE_BASE + block.index * 4)}/${blockPrefix}`;
  }
  liveHosts.add(record);

  const label = options.label ? ` (${options.label})` : '';
  try {
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', targetLink, 'netns', name]);
    await run('ip', ['addr', 'add', `${peerAddress}/${PREFIX_LENGTH}`, 'dev', hostLink]);
    await run('ip', ['link', 'set', hostLink, 'up']);
    const inside = ['netns', 'exec', name];
    await run('ip', [...inside, 'ip', 'link', 'set', 'lo', 'up']);
    await run('ip', [...inside, 'ip', 'addr', 'add', `${address}/${PREFIX_LENGTH}`, 'dev', targetLink]);
    await run('ip', [...inside, 'ip', 'link', 'set', targetLink, 'up']);
    if (routedBlock !== undefined) {
      await run('ip', ['route', 'add', routedBlock, 'via', address, 'dev', hostLink]);
      await run('ip', [...inside, 'ip', 'route', 'add', 'local', routedBlock, 'dev', 'lo']);
    }
  } catch (error) {
    await destroyRecord(record);
    throw new Error(`cannot create test host ${name}${label}: ${(error as Error).message}`, { cause: error });
  }

  const host: TestHost = {
    name,
    address,
    peerAddress,
    prefixLength: PREFIX_LENGTH,
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
    blockRoute: async () => {
      assertLive(record);
      const route = `${address}/32`;
      record.blockedRoutes.add(route);
      await run('ip', ['route', 'replace', 'unreachable', route]);
    },
    destroy: () => destroyRecord(record),
  };
  return host;
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
  // Unreachable routes of blockRoute() whose /30 is no longer claimed: their process died.
  const routes = (await run('ip', ['-o', 'route', 'show', 'type', 'unreachable'], { allowFailure: true })).stdout;
  for (const match of routes.matchAll(/^unreachable (\d+\.\d+\.\d+\.\d+)(?:\/32)?\b/gm)) {
    const index = Math.floor((ipv4ToNumber(match[1] ?? '0.0.0.0') - RANGE_BASE) / 4);
    if (index < 0 || index >= SUBNET_COUNT) continue;
    if (readClaim(path.join(CLAIM_DIR, `subnet-${index}`)) === null) {
      runSync('ip', ['route', 'del', 'unreachable', `${match[1]}/32`]);
      removed.push(`unreachable ${match[1]}`);
    }
  }
  return removed;
}
