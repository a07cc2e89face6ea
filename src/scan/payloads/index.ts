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
import { chooseService } from './services.js';
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

/** The payload of the port's service (chooseService) for an address family. */
export function choosePayload(options: { port: number; protocol?: string; family?: 4 | 6 }): UdpPayload {
  return payloadFor(chooseService(options), options.family);
}

/** A service's payload for an address family: DHCPv4 cannot be asked over IPv6. */
export function payloadFor(service: UdpService, family?: 4 | 6): UdpPayload {
  return PAYLOADS[service === 'dhcp' && family === 6 ? 'generic' : service];
}
