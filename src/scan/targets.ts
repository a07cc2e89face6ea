/**
 * Targets: IPv4/IPv6 literals, host names (resolved once; the address is recorded), CIDR
 * blocks (capped by --max-hosts), comma lists, and lines of a --targets-file.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { VALUE_RANGES } from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import { readInputText } from '../util/read-input.js';
import { ipv4ToNumber, numberToIpv4 } from '../util/ipv4.js';

export interface ResolvedTarget {
  /** As the user wrote it (for a CIDR member: the block; for a name: the name). */
  target: string;
  /** The host: every finding, report section and drift entry is keyed by it. */
  address: string;
  family: 4 | 6;
  /** The host name this address was resolved from, when the target was a name. */
  name?: string;
}

/** Looks a host name up: every address it has (A and AAAA), in the resolver's order. */
export type NameResolver = (name: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: NameResolver = (name) => lookup(name, { all: true, verbatim: true });

const NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9])?)*\.?$/i;

function targetError(spec: string, what: string, hint: string): PortmatrixError {
  return new PortmatrixError('E_TARGET', `target ${JSON.stringify(spec)}: ${what}`, { hint });
}

function ipv6ToBigInt(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const parse = (part: string): string[] => (part === '' ? [] : part.split(':'));
  let groups = parse(head);
  let tailGroups = tail === undefined ? [] : parse(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const expand = (list: string[]): string[] =>
    list.flatMap((group) => {
      if (!group.includes('.')) return [group];
      const value = ipv4ToNumber(group);
      return [Math.floor(value / 65536).toString(16), (value % 65536).toString(16)];
    });
  groups = expand(groups);
  tailGroups = expand(tailGroups);
  const fill = tail === undefined ? [] : new Array<string>(8 - groups.length - tailGroups.length).fill('0');
  return [...groups, ...fill, ...tailGroups].reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

function bigIntToIpv6(value: bigint): string {
  const groups: string[] = [];
  for (let index = 7; index >= 0; index--) groups.push(((value >> BigInt(index * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups, as the canonical form does.
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== '0') {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === '0') end++;
    if (end - start > bestLength && end - start > 1) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

function expandCidr(spec: string, maxHosts: number): ResolvedTarget[] {
  const parts = spec.split('/');
  // Strict: 127.0.0.1/24/8 used to scan a /24.
  if (parts.length !== 2) throw targetError(spec, `a CIDR block has exactly one "/", this has ${parts.length - 1}`, 'write a block like 198.18.0.0/24 or 2001:db8::/120');
  const [base = '', prefixText = ''] = parts;
  const family = base.includes('%') ? 0 : isIP(base);
  if (family === 0) throw targetError(spec, `${JSON.stringify(base)} is not an IP address`, 'write a block like 198.18.0.0/24 or 2001:db8::/120 (no zone index)');
  const bits = family === 4 ? 32 : 128;
  if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
    throw targetError(spec, `prefix /${prefixText} is not 0-${bits}`, `write a block like ${family === 4 ? '198.18.0.0/24' : '2001:db8::/120'}`);
  }
  const hostBits = bits - Number(prefixText);
  const count = 2 ** hostBits;
  // Network and broadcast addresses are skipped in IPv4 blocks that have them (/30 and wider),
  // and the cap counts the hosts scanned: a /24 is 254 hosts, within the default 256.
  const skipEnds = family === 4 && hostBits >= 2;
  const hosts = skipEnds ? count - 2 : count;
  if (hosts > maxHosts) {
    const largest = VALUE_RANGES.maxHosts.max;
    const hint = hosts <= largest ? `scan a smaller block, or raise the cap with --max-hosts ${hosts}` : `scan smaller blocks: --max-hosts goes up to ${largest} (a /16)`;
    // 2^64 hosts, not 18446744073709552000: beyond 2^53 a number has lost its last digits.
    throw targetError(spec, `${hostBits > 53 ? `2^${hostBits}` : hosts} hosts, more than the cap of ${maxHosts}`, hint);
  }
  const targets: ResolvedTarget[] = [];
  if (family === 4) {
    const first = ipv4ToNumber(base) - (ipv4ToNumber(base) % count);
    for (let offset = skipEnds ? 1 : 0; offset < (skipEnds ? count - 1 : count); offset++) {
      targets.push({ target: spec, address: numberToIpv4(first + offset), family: 4 });
    }
  } else {
    const size = BigInt(count);
    const first = ipv6ToBigInt(base) - (ipv6ToBigInt(base) % size);
    for (let offset = 0n; offset < size; offset++) {
      targets.push({ target: spec, address: bigIntToIpv6(first + offset), family: 6 });
    }
  }
  return targets;
}

async function resolveName(spec: string, resolve: NameResolver): Promise<ResolvedTarget[]> {
  if (!NAME.test(spec)) {
    throw targetError(spec, 'not an IP address, CIDR block or host name', 'write 198.18.0.10, 2001:db8::10, 198.18.0.0/28 or a host name');
  }
  let found: { address: string; family: number }[];
  try {
    // Resolved once: every probe goes to the same address, and the result records it. A name
    // with several addresses is several hosts (round-robin pairs, A and AAAA): each is scanned.
    found = await resolve(spec);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'lookup failed';
    throw new PortmatrixError('E_TARGET', `target ${JSON.stringify(spec)}: cannot resolve the name (${code})`, {
      hint: 'check the spelling and the DNS settings, or give the address',
      cause,
    });
  }
  const hosts = found.flatMap(({ address }): ResolvedTarget[] => {
    const family = isIP(address);
    if (family === 0) return [];
    return [family === 6 ? { ...ipv6Target(spec, address), name: spec } : { target: spec, address, family: 4, name: spec }];
  });
  if (hosts.length === 0) {
    throw new PortmatrixError('E_TARGET', `target ${JSON.stringify(spec)}: the name has no address`, { hint: 'check the DNS records, or give the address' });
  }
  return hosts;
}

function canonicalIpv6(address: string): string {
  return bigIntToIpv6(ipv6ToBigInt(address.split('%')[0] ?? ''));
}

/**
 * An IPv6 literal as a target: canonical text, or the IPv4 host of an IPv4-mapped address
 * (::ffff:198.18.0.1 is that IPv4 host; a raw IPv6 probe to it would reach nobody). A zone index
 * (fe80::1%eth0) is refused: the address means nothing without it, and probes do not carry it.
 */
function ipv6Target(item: string, address: string): ResolvedTarget {
  if (address.includes('%')) {
    throw targetError(item, 'a zone index (%interface) is not supported', 'scan a global or unique local (fd00::/8) address of the host instead of its link-local one');
  }
  const canonical = canonicalIpv6(address);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const value = Number.parseInt(mapped[1] ?? '0', 16) * 65536 + Number.parseInt(mapped[2] ?? '0', 16);
    return { target: item, address: numberToIpv4(value), family: 4 };
  }
  return { target: item, address: canonical, family: 6 };
}

/** Resolves target specs (each may be a comma list) to addresses; duplicates are scanned once. */
export async function resolveTargets(specs: string[], options: { maxHosts: number; resolve?: NameResolver }): Promise<ResolvedTarget[]> {
  const items = specs.flatMap((spec) => spec.split(',')).map((item) => item.trim()).filter((item) => item !== '');
  if (items.length === 0) throw new PortmatrixError('E_TARGET', 'no targets given', { hint: 'name at least one host, address or block' });
  // Duplicates are dropped as they come, so the cap counts distinct hosts: 300 copies of one address are one host.
  const byAddress = new Map<string, ResolvedTarget>();
  for (const item of items) {
    // [2001:db8::1] and [2001:db8::]/120, as in URLs.
    const unbracketed = item.replace(/^\[([^\]]*)\](\/\d*)?$/, '$1$2');
    let found: ResolvedTarget[];
    if (unbracketed.includes('/')) found = expandCidr(unbracketed, options.maxHosts);
    else if (isIP(unbracketed) === 4) found = [{ target: item, address: unbracketed, family: 4 }];
    else if (isIP(unbracketed) === 6) found = [ipv6Target(item, unbracketed)];
    else if (/^[\d.]+$/.test(unbracketed) || unbracketed.includes(':')) {
      throw targetError(item, 'malformed IP address', 'write four numbers 0-255 like 198.18.0.10, or an IPv6 address like 2001:db8::10');
    } else found = await resolveName(unbracketed, options.resolve ?? systemResolver);
    for (const target of found) if (!byAddress.has(target.address)) byAddress.set(target.address, target);
    if (byAddress.size > options.maxHosts) {
      throw new PortmatrixError('E_TARGET', `more than ${options.maxHosts} distinct hosts to scan`, { hint: `raise the cap with --max-hosts` });
    }
  }
  return [...byAddress.values()];
}

/** Reads a --targets-file ("-": standard input, as nmap's -iL -): one target per line; blank lines and # comments are ignored. */
export async function readTargetsFile(path: string): Promise<string[]> {
  const text = await readInputText(path, { label: `--targets-file ${path}`, code: 'E_TARGET', hint: 'give a readable file with one target per line', allowStdin: true });
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
}
