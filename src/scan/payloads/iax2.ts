/** IAX2 POKE (RFC 5456 6.7.x): a full frame that any IAX2 peer answers with PONG, no call set up. */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import type { DecodedReply, UdpPayload } from './types.js';

const FRAME_TYPE_IAX = 6;
export const IAX_SUBCLASSES: Record<number, string> = { 2: 'PING', 3: 'PONG', 4: 'ACK', 5: 'HANGUP', 6: 'REJECT', 0x1e: 'POKE' };
const POKE = 0x1e;

export function buildIaxPoke(options: { sourceCallNumber: number }): Buffer {
  const frame = Buffer.alloc(12);
  frame.writeUInt16BE(0x8000 | (options.sourceCallNumber & 0x7fff), 0); // F bit: full frame
  frame[10] = FRAME_TYPE_IAX;
  frame[11] = POKE;
  return frame;
}

export interface IaxFrame {
  sourceCallNumber: number;
  destinationCallNumber: number;
  frameType: number;
  subclass: string;
}

export function decodeIaxFullFrame(buffer: Buffer): IaxFrame | null {
  if (buffer.length < 12 || !((buffer[0] ?? 0) & 0x80)) return null;
  const subclass = buffer[11] ?? 0;
  return {
    sourceCallNumber: buffer.readUInt16BE(0) & 0x7fff,
    destinationCallNumber: buffer.readUInt16BE(2) & 0x7fff,
    frameType: buffer[10] ?? 0,
    subclass: IAX_SUBCLASSES[subclass] ?? `subclass ${subclass}`,
  };
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const frame = decodeIaxFullFrame(reply);
  if (!frame || frame.frameType !== FRAME_TYPE_IAX) return null;
  return { banner: `IAX2 ${frame.subclass}` };
}

export const iax2Payload: UdpPayload = {
  service: 'iax2',
  build: () => [buildIaxPoke({ sourceCallNumber: randomInt(1, 0x8000) })],
  decode: decodeReply,
};
