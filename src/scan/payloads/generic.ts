/**
 * Probes without a protocol: an empty datagram. Services with no request format of their own
 * (RFC 868 TIME, echo) answer it, a production service parses nothing from it, and a closed
 * port answers it with ICMP like any other datagram.
 */
import { Buffer } from 'node:buffer';
import type { DecodedReply, UdpPayload } from './types.js';

const EMPTY_DATAGRAM: readonly Buffer[] = [Buffer.alloc(0)];

export const genericPayload: UdpPayload = { service: 'generic', build: () => [...EMPTY_DATAGRAM] };

/** Syslog never answers: we send nothing a daemon would log, and only ICMP can tell closed from silent. */
export const syslogPayload: UdpPayload = { service: 'syslog', build: () => [...EMPTY_DATAGRAM] };

/** RFC 868 TIME over UDP: any datagram asks for the time; the reply is 4 bytes of seconds since 1900. */
export const timePayload: UdpPayload = {
  service: 'time',
  build: () => [...EMPTY_DATAGRAM],
  decode: (reply): DecodedReply | null => (reply.length === 4 ? { banner: 'TIME (RFC 868)' } : null),
};
