/**
 * The shape every UDP payload shares: a builder of the datagrams one probe sends, and where the
 * protocol has one, a decoder that reads the reply into a short banner. Builders are pure.
 */
import type { Buffer } from 'node:buffer';

/** What a builder may need to know about the probe it is part of. */
export interface ProbeContext {
  family: 4 | 6;
  /** The scanner's own address and port on this probe's socket (after connect). */
  localAddress: string;
  localPort: number;
  /** The target. */
  address: string;
  port: number;
  snmpCommunity: string;
}

export type UdpService =
  | 'snmp'
  | 'sip'
  | 'ntp'
  | 'dns'
  | 'tftp'
  | 'dhcp'
  | 'rip'
  | 'h225-ras'
  | 'l2tp'
  | 'stun'
  | 'iax2'
  | 'mgcp'
  | 'syslog'
  | 'time'
  | 'generic';

export interface DecodedReply {
  /** Untrusted text from the peer (sysDescr, Server header, version string...). */
  banner?: string;
}

export interface UdpPayload {
  service: UdpService;
  /** Datagrams for one attempt, sent in order. An empty datagram is a valid probe. */
  build(context: ProbeContext): Buffer[];
  /** Reads a reply; null when it is not a reply of this protocol (the port is still open). */
  decode?(reply: Buffer, context: ProbeContext): DecodedReply | null;
  /** A datagram that closes what the probe opened on the peer (L2TP StopCCN), if any. */
  farewell?(reply: Buffer, context: ProbeContext): Buffer | null;
  /** The server answers from another port (TFTP opens a new transfer port). */
  repliesFromOtherPort?: boolean;
}

/** Printable ASCII only, collapsed and cut: banners are untrusted and go to reports. */
export function toBannerText(raw: string, maxLength = 200): string {
  return raw
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, maxLength);
}
