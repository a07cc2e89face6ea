/** NTP client request (RFC 5905, mode 3); the reply is a server packet (mode 4) echoing our transmit time. */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { toBannerText, type DecodedReply, type UdpPayload } from './types.js';

const NTP_PACKET_BYTES = 48;
const MODE_CLIENT = 3;
const MODE_SERVER = 4;

/** transmitTimestamp: 8 bytes; RFC 5905 lets a client put a nonce there, the server copies it to origin. */
export function buildNtpRequest(options: { transmitTimestamp: Buffer; version?: number }): Buffer {
  const packet = Buffer.alloc(NTP_PACKET_BYTES);
  packet[0] = ((options.version ?? 4) << 3) | MODE_CLIENT;
  options.transmitTimestamp.copy(packet, 40, 0, 8);
  return packet;
}

export interface NtpPacket {
  version: number;
  mode: number;
  stratum: number;
  referenceId: Buffer;
  originTimestamp: Buffer;
  transmitTimestamp: Buffer;
}

export function decodeNtpPacket(buffer: Buffer): NtpPacket | null {
  if (buffer.length < NTP_PACKET_BYTES) return null;
  const first = buffer[0] ?? 0;
  return {
    version: (first >> 3) & 0x7,
    mode: first & 0x7,
    stratum: buffer[1] ?? 0,
    referenceId: buffer.subarray(12, 16),
    originTimestamp: buffer.subarray(24, 32),
    transmitTimestamp: buffer.subarray(40, 48),
  };
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const packet = decodeNtpPacket(reply);
  if (!packet || packet.mode !== MODE_SERVER) return null;
  // Stratum 1 reference ids are ASCII source names (GPS, PPS ...); higher strata are addresses.
  const reference =
    packet.stratum === 1 ? ` ${packet.referenceId.toString('latin1')}` : packet.stratum === 0 ? ' unsynchronised' : '';
  return { banner: toBannerText(`NTPv${packet.version} server, stratum ${packet.stratum}${reference}`) };
}

export const ntpPayload: UdpPayload = {
  service: 'ntp',
  build: () => [buildNtpRequest({ transmitTimestamp: randomBytes(8) })],
  decode: decodeReply,
};
