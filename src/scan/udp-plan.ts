/**
 * Which UDP ports a scan covers. UDP cannot be swept like TCP (a Linux target answers closed
 * ports with about one ICMP message per second), so `--udp matrix` means the documented UDP
 * ports of the selection plus our own short list of UDP services that turn up on telephony and
 * management hosts. The matrix's part arrives as data (documented ports, protocol hints):
 * scan never reads matrix rows. Pure.
 */
import { chooseService } from './payloads/services.js';
import type { UdpService } from './payloads/types.js';
import { parsePortSelection, resolvePortSelection, type PortSelection } from './port-plan.js';

/** Our own list (not nmap's): telephony signalling and the management services around it. */
export const COMMON_UDP_PORTS: readonly number[] = [
  37, // TIME (RFC 868)
  53, // DNS
  67, // DHCP / BOOTP server
  68, // DHCP / BOOTP client
  69, // TFTP (phone firmware and settings)
  123, // NTP
  161, // SNMP agent
  162, // SNMP traps
  500, // IKE
  514, // syslog
  520, // RIP
  1645, // RADIUS (legacy)
  1646, // RADIUS accounting (legacy)
  1701, // L2TP
  1718, // H.323 RAS discovery
  1719, // H.323 RAS
  1812, // RADIUS
  1813, // RADIUS accounting
  2427, // MGCP gateway
  2727, // MGCP call agent
  3478, // STUN / TURN
  4500, // IKE NAT traversal
  4569, // IAX2
  5004, // RTP (RFC 3551 default)
  5005, // RTCP
  5060, // SIP
  5061, // SIP (TLS on TCP; UDP on some PBXs)
  10162, // SNMP traps (System Manager)
];

/** What the layer above knows about a UDP port: the protocol a matrix row names there, and whether a row documents it. */
export interface UdpPortHint {
  protocol?: string;
  documented: boolean;
}

/**
 * One UDP port of a scan plan and the payload it gets. Tier orders the sweep and decides how
 * hard silence is confirmed: 0 documented (first in the ICMP burst, confirmed to the end),
 * 1 a known service or a common port, 2 the rest.
 */
export interface UdpProbe {
  port: number;
  service: UdpService;
  tier: 0 | 1 | 2;
}

/** The UDP scan plan: each port once, with its payload, in the order it is probed. Pure. */
export function planUdpProbes(ports: readonly number[], hints: ReadonlyMap<number, UdpPortHint> = new Map()): UdpProbe[] {
  const probes = [...new Set(ports)].map((port): UdpProbe => {
    const hint = hints.get(port);
    const service = chooseService({ port, ...(hint?.protocol ? { protocol: hint.protocol } : {}) });
    const tier = hint?.documented ? 0 : service !== 'generic' || COMMON_UDP_PORTS.includes(port) ? 1 : 2;
    return { port, service, tier };
  });
  return probes.sort((a, b) => a.tier - b.tier || a.port - b.port);
}

/**
 * The UDP ports of a selection, sorted: `matrix` is the documented ports plus COMMON_UDP_PORTS
 * (the common list alone without a matrix). A string is parsed as --udp. Throws PortmatrixError on a bad spec.
 */
export function planUdpPorts(selection: PortSelection | string, documented: readonly number[]): number[] {
  const chosen = typeof selection === 'string' ? parsePortSelection(selection, '--udp') : selection;
  if (chosen === 'matrix') return [...new Set([...documented, ...COMMON_UDP_PORTS])].sort((a, b) => a - b);
  return resolvePortSelection(chosen, '--udp', []).flatMap(({ start, end }) => Array.from({ length: end - start + 1 }, (_, index) => start + index));
}
