/**
 * Which payload a UDP port gets: the matrix row's protocol text first (it says what the vendor
 * runs there, whatever the port), else the port's well-known service, else the generic probe.
 * Our own table: nmap's payload and service files are not used (their licence binds the project).
 */
import { dhcpPayload } from './dhcp.js';
import { dnsPayload } from './dns.js';
import { genericPayload, syslogPayload, timePayload } from './generic.js';
import { h225RasPayload } from './h225-ras.js';
import { iax2Payload } from './iax2.js';
import { l2tpPayload } from './l2tp.js';
import { mgcpPayload } from './mgcp.js';
import { ntpPayload } from './ntp.js';
import { ripPayload } from './rip.js';
import { sipPayload } from './sip.js';
import { snmpPayload } from './snmp.js';
import { stunPayload } from './stun.js';
import { tftpPayload } from './tftp.js';
import type { UdpPayload, UdpService } from './types.js';

export type { DecodedReply, ProbeContext, UdpPayload, UdpService } from './types.js';

export const PAYLOADS: Record<UdpService, UdpPayload> = {
  snmp: snmpPayload,
  sip: sipPayload,
  ntp: ntpPayload,
  dns: dnsPayload,
  tftp: tftpPayload,
  dhcp: dhcpPayload,
  rip: ripPayload,
  'h225-ras': h225RasPayload,
  l2tp: l2tpPayload,
  stun: stunPayload,
  iax2: iax2Payload,
  mgcp: mgcpPayload,
  syslog: syslogPayload,
  time: timePayload,
  generic: genericPayload,
};

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
export function choosePayload(options: { port: number; protocol?: string; family?: 4 | 6 }): UdpPayload {
  const fromRow = options.protocol ? serviceForProtocol(options.protocol) : null;
  return payloadFor(fromRow ?? WELL_KNOWN_UDP_SERVICES[options.port] ?? 'generic', options.family);
}

/** A service's payload for an address family: DHCPv4 cannot be asked over IPv6. */
export function payloadFor(service: UdpService, family?: 4 | 6): UdpPayload {
  return PAYLOADS[service === 'dhcp' && family === 6 ? 'generic' : service];
}
