/**
 * Which UDP ports a scan covers. UDP cannot be swept like TCP (a Linux target answers closed
 * ports with about one ICMP message per second), so `--udp matrix` means the documented UDP
 * ports of the selection plus our own short list of UDP services that turn up on telephony and
 * management hosts. Pure.
 */
import type { Expectation } from '../matrix/expectation.js';
import { parsePortOption } from './port-plan.js';

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

/** The documented UDP listeners of a selection (dynamic media ranges are not probed one by one). */
export function documentedUdpPorts(expectations: readonly Expectation[]): number[] {
  const ports = new Set<number>();
  for (const expectation of expectations) {
    if (expectation.transport !== 'udp' || expectation.dynamic) continue;
    for (let port = expectation.start; port <= expectation.end; port++) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/** `--udp matrix | all | none | <spec>` to a sorted list of ports. Throws PortmatrixError on a bad spec. */
export function planUdpPorts(option: string, expectations: readonly Expectation[]): number[] {
  if (option.trim().toLowerCase() === 'matrix') {
    return [...new Set([...documentedUdpPorts(expectations), ...COMMON_UDP_PORTS])].sort((a, b) => a - b);
  }
  const ranges = parsePortOption(option, '--udp', []);
  return ranges.flatMap(({ start, end }) => Array.from({ length: end - start + 1 }, (_, index) => start + index));
}
