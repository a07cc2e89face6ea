/**
 * TFTP read request for a file that does not exist (RFC 1350): the server answers with an
 * ERROR packet, from a new port (its transfer id), so the prober must accept replies from
 * any port of the target. Nothing is transferred and nothing is written.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { toBannerText, type DecodedReply, type UdpPayload } from './types.js';

const OPCODE = { rrq: 1, wrq: 2, data: 3, ack: 4, error: 5, oack: 6 } as const;

export function buildTftpReadRequest(options: { filename: string; mode?: 'octet' | 'netascii' }): Buffer {
  return Buffer.concat([
    Buffer.from([0, OPCODE.rrq]),
    Buffer.from(options.filename, 'ascii'),
    Buffer.from([0]),
    Buffer.from(options.mode ?? 'octet', 'ascii'),
    Buffer.from([0]),
  ]);
}

export type TftpPacket =
  | { opcode: 'rrq' | 'wrq'; filename: string; mode: string }
  | { opcode: 'error'; errorCode: number; message: string }
  | { opcode: 'data' | 'ack'; block: number }
  | { opcode: 'oack' };

export function decodeTftpPacket(buffer: Buffer): TftpPacket | null {
  if (buffer.length < 4) return null;
  const opcode = buffer.readUInt16BE(0);
  switch (opcode) {
    case OPCODE.rrq:
    case OPCODE.wrq: {
      const [filename, mode] = buffer.toString('latin1', 2).split('\0');
      if (filename === undefined || mode === undefined) return null;
      return { opcode: opcode === OPCODE.rrq ? 'rrq' : 'wrq', filename, mode };
    }
    case OPCODE.error:
      return { opcode: 'error', errorCode: buffer.readUInt16BE(2), message: buffer.toString('latin1', 4).split('\0')[0] ?? '' };
    case OPCODE.data:
    case OPCODE.ack:
      return { opcode: opcode === OPCODE.data ? 'data' : 'ack', block: buffer.readUInt16BE(2) };
    case OPCODE.oack:
      return { opcode: 'oack' };
    default:
      return null;
  }
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const packet = decodeTftpPacket(reply);
  if (!packet) return null;
  if (packet.opcode === 'error') return { banner: toBannerText(`TFTP error ${packet.errorCode}: ${packet.message}`) };
  return { banner: `TFTP ${packet.opcode}` };
}

export const tftpPayload: UdpPayload = {
  service: 'tftp',
  build: () => [buildTftpReadRequest({ filename: `portmatrix-probe-${randomBytes(6).toString('hex')}` })],
  decode: decodeReply,
  repliesFromOtherPort: true,
};
