/**
 * Address plan of the test hosts. Subnet k is the /30 198.18.0.0/15 + 4k (IPv4) and the /64
 * fd70:6d74:6573:k::/64 (IPv6, a ULA prefix of our own, "pmtes"), so one claim covers both
 * families. A subnet is claimed with an exclusive file under CLAIM_DIR before it is configured:
 * two processes creating hosts at the same moment cannot pick the same one.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isAlive, linkNameFor, removeHostSync, runSync, safeUnlink } from './netns-commands.js';
import { ipv4ToNumber, numberToIpv4 } from '../util/ipv4.js';

/** 198.18.0.0/15 split into /30s: 32768 subnets. */
const RANGE_BASE = ((198 << 24) | (18 << 16)) >>> 0; // unsigned: 198 << 24 alone is a negative int32
export const SUBNET_COUNT = 1 << 15;
export const PREFIX_LENGTH = 30;
/** The /48 the IPv6 /64s come from; the subnet index is the fourth group. */
const ULA_PREFIX = 'fd70:6d74:6573';
export const PREFIX_LENGTH_6 = 64;
/** Where subnet claims live; /run is cleared at boot, like the namespaces themselves. */
export const CLAIM_DIR = '/run/portmatrix-netns';


/** The addresses of subnet `index`: the caller's side (peer) and the test host's. */
export function subnetAddresses(index: number): { peer: string; host: string; peer6: string; host6: string } {
  const network = RANGE_BASE + index * 4;
  // Canonical text (RFC 5952), as the scanner writes addresses: subnet 0 is fd70:6d74:6573::/64.
  const prefix6 = index === 0 ? `${ULA_PREFIX}:` : `${ULA_PREFIX}:${index.toString(16)}:`;
  return { peer: numberToIpv4(network + 1), host: numberToIpv4(network + 2), peer6: `${prefix6}:1`, host6: `${prefix6}:2` };
}

/** The first address of `size` subnets from `index` on: a routed block's network address. */
export function subnetNetwork(index: number): string {
  return numberToIpv4(RANGE_BASE + index * 4);
}

/** The subnet an address of ours belongs to (either family), or null for any other address. */
export function subnetOf(address: string): number | null {
  if (address.includes(':')) {
    const match = new RegExp(`^${ULA_PREFIX}:(?::|([0-9a-f]{1,4}):)`, 'i').exec(address);
    const index = match ? Number.parseInt(match[1] ?? '0', 16) : -1;
    return index >= 0 && index < SUBNET_COUNT ? index : null;
  }
  const index = Math.floor((ipv4ToNumber(address) - RANGE_BASE) / 4);
  return index >= 0 && index < SUBNET_COUNT ? index : null;
}

/** Indices of subnets that some interface of this namespace already uses (either family). */
function subnetsInUse(): Set<number> {
  const used = new Set<number>();
  const output4 = runSync('ip', ['-o', '-4', 'addr', 'show']) ?? '';
  for (const match of output4.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/g)) {
    const address = ipv4ToNumber(match[1] ?? '0.0.0.0');
    const prefix = Number(match[2]);
    const size = prefix >= 32 ? 1 : 2 ** (32 - prefix);
    const start = (address - (address % size)) >>> 0;
    for (let offset = 0; offset < size && offset < 2 ** 17; offset += 4) {
      const index = (start + offset - RANGE_BASE) / 4;
      if (index >= 0 && index < SUBNET_COUNT) used.add(Math.floor(index));
    }
  }
  const output6 = runSync('ip', ['-o', '-6', 'addr', 'show']) ?? '';
  for (const match of output6.matchAll(/inet6 ([0-9a-f:]+)\//gi)) {
    const index = subnetOf(match[1] ?? '');
    if (index !== null) used.add(index);
  }
  return used;
}

/**
 * Claims `size` consecutive subnets (a power of two, aligned to it) with one exclusive file
 * each; a partly taken block is given back and the next one tried. `salt` spreads concurrent
 * processes over the range so they rarely even race for the same file.
 */
export function claimBlock(name: string, size: number, salt: number): { index: number; claimPaths: string[] } {
  mkdirSync(CLAIM_DIR, { recursive: true, mode: 0o755 });
  const used = subnetsInUse();
  const blocks = SUBNET_COUNT / size;
  const start = (process.pid * 97 + salt * 13) % blocks;
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

export function claimPathOf(index: number): string {
  return path.join(CLAIM_DIR, `subnet-${index}`);
}

/** The claim file of one subnet, or null when someone alive holds it. Stale claims of dead processes are taken over. */
function claimOne(name: string, index: number): string | null {
  const claimPath = claimPathOf(index);
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

export function readClaim(claimPath: string): { pid: number; name: string } | null {
  try {
    const [pid, name] = readFileSync(claimPath, 'utf8').trim().split(/\s+/);
    if (!pid || !name) return null;
    return { pid: Number(pid), name };
  } catch {
    return null;
  }
}
