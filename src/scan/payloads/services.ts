/**
 * Which UDP service a port is: the matrix row's protocol text first, else the port's well-known
 * service, else generic. Apart from the payloads themselves so that planning (and a TCP-only scan)
 * does not load every payload encoder. Pure.
 */
import type { UdpService } from './types.js';

/** Protocol words as matrix rows write them (UDP/SNMP, UDP/H.323 discovery, NTP ...), first match wins. */
const PROTOCOL_PATTERNS: readonly [RegExp, UdpService][] = [
  [/\bSNMP\b/i, 'snmp'],
  [/\bSIP\b/i, 'sip'],
  [/\bS?NTP\b/i, 'ntp'],
  [/\bDNS\b/i, 'dns'],
  [/\bTFTP\b/i, 'tftp'],
  [/\b(DHCP|BOOTP)\b/i, 'dhcp'],
  [/\bRIP/i, 'rip'],
  [/H\.?323|H\.?225|\bRAS\b|gatekeeper/i, 'h225-ras'],
  [/\bL2TP\b/i, 'l2tp'],
  [/\b(STUN|TURN)\b/i, 'stun'],
  [/\bIAX2?\b/i, 'iax2'],
  [/\bMGCP\b/i, 'mgcp'],
  [/\bsyslog\b/i, 'syslog'],
  [/\bTIME\b/, 'time'],
];

/** Well-known UDP services (IANA assignments), for ports no matrix row describes. */
export const WELL_KNOWN_UDP_SERVICES: Readonly<Record<number, UdpService>> = {
  37: 'time',
  53: 'dns',
  67: 'dhcp',
  69: 'tftp',
  123: 'ntp',
  161: 'snmp',
  514: 'syslog',
  520: 'rip',
  1701: 'l2tp',
  1718: 'h225-ras',
  1719: 'h225-ras',
  2427: 'mgcp',
  2727: 'mgcp',
  3478: 'stun',
  4569: 'iax2',
  5060: 'sip',
  5061: 'sip',
};

export function serviceForProtocol(protocol: string): UdpService | null {
  return PROTOCOL_PATTERNS.find(([pattern]) => pattern.test(protocol))?.[1] ?? null;
}

/** A row's protocol text decides when it names one; a trap receiver (162) still gets a payload only if one fits. */
export function chooseService(options: { port: number; protocol?: string }): UdpService {
  const fromRow = options.protocol ? serviceForProtocol(options.protocol) : null;
  return fromRow ?? WELL_KNOWN_UDP_SERVICES[options.port] ?? 'generic';
}
