/**
 * Privileged mode: one raw ICMP socket per scan reads the type and code of every destination
 * unreachable that quotes one of our UDP probes, so admin-prohibited (filtered) is told apart
 * from port unreachable (closed) and the code becomes the reason. The optional raw-socket
 * module is loaded lazily; without it, or without root, openIcmpListener returns null and the
 * prober reads the errno of its connected sockets instead.
 */
import { createRequire } from 'node:module';

export interface IcmpReport {
  type: number;
  code: number;
  /** Our local UDP port and the target's port, from the quoted datagram. */
  localPort: number;
  remotePort: number;
  /** The quoted datagram's destination address (the target). */
  remoteAddress: string;
}

export interface IcmpListener {
  family: 4 | 6;
  /** Calls back for every ICMP error quoting a UDP datagram from localPort; returns the unsubscribe. */
  watch(localPort: number, callback: (report: IcmpReport) => void): () => void;
  close(): void;
}

interface RawSocket {
  on(event: 'message', listener: (buffer: Buffer, source: string) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  close(): void;
}

interface RawSocketModule {
  createSocket(options: { protocol: number; addressFamily: number }): RawSocket;
  Protocol: { ICMP: number; ICMPv6: number };
  AddressFamily: { IPv4: number; IPv6: number };
}

const IPPROTO_UDP = 17;
const ICMP4_ERROR_TYPES = new Set([3, 11, 12]);
const ICMP6_ERROR_TYPES = new Set([1, 3, 4]);

function loadRawSocket(): RawSocketModule | null {
  try {
    return createRequire(import.meta.url)('raw-socket') as RawSocketModule;
  } catch {
    return null;
  }
}

/** RFC 5952 text (lower case, the longest run of zero groups as ::), as targets are written. */
function canonicalIpv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

function formatIpv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push(bytes.readUInt16BE(index).toString(16));
  return canonicalIpv6(groups.join(':'));
}

/** IPv4 raw ICMP sockets deliver the IP header; the error quotes our IP header and 8 bytes of UDP. */
export function parseIcmp4Error(packet: Buffer): IcmpReport | null {
  const outerHeader = ((packet[0] ?? 0) & 0x0f) * 4;
  const type = packet[outerHeader];
  const code = packet[outerHeader + 1];
  if (type === undefined || code === undefined || !ICMP4_ERROR_TYPES.has(type)) return null;
  const quoted = outerHeader + 8;
  const innerHeader = ((packet[quoted] ?? 0) & 0x0f) * 4;
  if (packet[quoted + 9] !== IPPROTO_UDP || packet.length < quoted + innerHeader + 4) return null;
  return {
    type,
    code,
    remoteAddress: [...packet.subarray(quoted + 16, quoted + 20)].join('.'),
    localPort: packet.readUInt16BE(quoted + innerHeader),
    remotePort: packet.readUInt16BE(quoted + innerHeader + 2),
  };
}

/** ICMPv6 raw sockets deliver the ICMP message only; the quoted IPv6 header has no extension headers here. */
export function parseIcmp6Error(packet: Buffer): IcmpReport | null {
  const type = packet[0];
  const code = packet[1];
  if (type === undefined || code === undefined || !ICMP6_ERROR_TYPES.has(type)) return null;
  if (packet[8 + 6] !== IPPROTO_UDP || packet.length < 8 + 40 + 4) return null;
  return {
    type,
    code,
    remoteAddress: formatIpv6(packet.subarray(8 + 24, 8 + 40)),
    localPort: packet.readUInt16BE(48),
    remotePort: packet.readUInt16BE(50),
  };
}

/** Null when raw sockets are not available (no module, no privilege): the caller falls back to errno. */
export function openIcmpListener(options: { family: 4 | 6; address: string }): IcmpListener | null {
  const raw = loadRawSocket();
  if (!raw) return null;
  let socket: RawSocket;
  try {
    socket = raw.createSocket(
      options.family === 4
        ? { protocol: raw.Protocol.ICMP, addressFamily: raw.AddressFamily.IPv4 }
        : { protocol: raw.Protocol.ICMPv6, addressFamily: raw.AddressFamily.IPv6 },
    );
  } catch {
    return null; // EPERM: not root / no CAP_NET_RAW
  }
  const watchers = new Map<number, (report: IcmpReport) => void>();
  // Only errors quoting a datagram to this target: another scan's ICMP for the same local port is not ours.
  const target = options.family === 4 ? options.address : canonicalIpv6(options.address);
  socket.on('message', (buffer) => {
    const report = options.family === 4 ? parseIcmp4Error(buffer) : parseIcmp6Error(buffer);
    if (!report || report.remoteAddress !== target) return;
    watchers.get(report.localPort)?.(report);
  });
  socket.on('error', () => {
    // A receive error on the raw socket loses only the detail; the connected sockets still report.
  });
  return {
    family: options.family,
    watch(localPort, callback) {
      watchers.set(localPort, callback);
      return () => {
        if (watchers.get(localPort) === callback) watchers.delete(localPort);
      };
    },
    close() {
      watchers.clear();
      socket.close();
    },
  };
}
