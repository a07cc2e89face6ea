/** STUN Binding Request (RFC 5389): STUN/TURN servers answer it without credentials. */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { toBannerText, type DecodedReply, type UdpPayload } from './types.js';

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const ATTRIBUTE_SOFTWARE = 0x8022;

export function buildStunBindingRequest(options: { transactionId: Buffer }): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(BINDING_REQUEST, 0);
  header.writeUInt16BE(0, 2);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  options.transactionId.copy(header, 8, 0, 12);
  return header;
}

export interface StunMessage {
  type: number;
  transactionId: Buffer;
  software: string | null;
}

export function decodeStunMessage(buffer: Buffer): StunMessage | null {
  if (buffer.length < 20 || buffer.readUInt32BE(4) !== MAGIC_COOKIE || (buffer[0] ?? 0) & 0xc0) return null;
  const message: StunMessage = { type: buffer.readUInt16BE(0), transactionId: buffer.subarray(8, 20), software: null };
  const end = Math.min(buffer.length, 20 + buffer.readUInt16BE(2));
  for (let offset = 20; offset + 4 <= end; ) {
    const type = buffer.readUInt16BE(offset);
    const length = buffer.readUInt16BE(offset + 2);
    if (type === ATTRIBUTE_SOFTWARE) message.software = buffer.toString('utf8', offset + 4, Math.min(end, offset + 4 + length));
    offset += 4 + Math.ceil(length / 4) * 4;
  }
  return message;
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const message = decodeStunMessage(reply);
  if (!message || message.type === BINDING_REQUEST) return null;
  const kind = message.type === 0x0101 ? 'Binding Success' : message.type === 0x0111 ? 'Binding Error' : `type 0x${message.type.toString(16)}`;
  return { banner: toBannerText(`STUN ${kind}${message.software ? `; ${message.software}` : ''}`) };
}

export const stunPayload: UdpPayload = {
  service: 'stun',
  build: () => [buildStunBindingRequest({ transactionId: randomBytes(12) })],
  decode: decodeReply,
};
