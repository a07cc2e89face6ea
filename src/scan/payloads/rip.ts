/**
 * RIPv2 request for the whole table (RFC 2453 3.9.1: one entry, AFI 0, metric 16). A request
 * from a port other than 520 is a diagnostic query, answered unicast to that port.
 */
import { Buffer } from 'node:buffer';
import { toBannerText, type DecodedReply, type UdpPayload } from './types.js';

const COMMAND = { request: 1, response: 2 } as const;
const ENTRY_BYTES = 20;
const INFINITY_METRIC = 16;

export function buildRipRequest(options: { version?: 1 | 2 } = {}): Buffer {
  const packet = Buffer.alloc(4 + ENTRY_BYTES);
  packet[0] = COMMAND.request;
  packet[1] = options.version ?? 2;
  packet.writeUInt32BE(INFINITY_METRIC, 4 + 16);
  return packet;
}

export interface RipPacket {
  command: 'request' | 'response';
  version: number;
  entries: { family: number; address: string; metric: number }[];
}

export function decodeRipPacket(buffer: Buffer): RipPacket | null {
  const command = buffer[0];
  if (buffer.length < 4 || (buffer.length - 4) % ENTRY_BYTES !== 0) return null;
  if (command !== COMMAND.request && command !== COMMAND.response) return null;
  const entries: RipPacket['entries'] = [];
  for (let offset = 4; offset < buffer.length; offset += ENTRY_BYTES) {
    entries.push({
      family: buffer.readUInt16BE(offset),
      address: [...buffer.subarray(offset + 4, offset + 8)].join('.'),
      metric: buffer.readUInt32BE(offset + 16),
    });
  }
  return { command: command === COMMAND.request ? 'request' : 'response', version: buffer[1] ?? 0, entries };
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const packet = decodeRipPacket(reply);
  if (!packet || packet.command !== 'response') return null;
  return { banner: toBannerText(`RIPv${packet.version} response, ${packet.entries.length} routes`) };
}

export const ripPayload: UdpPayload = { service: 'rip', build: () => [buildRipRequest()], decode: decodeReply };
