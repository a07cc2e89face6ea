/**
 * L2TPv2 Start-Control-Connection-Request (RFC 2661 6.1). An LAC/LNS answers with SCCRP (or
 * StopCCN); after an SCCRP the prober sends a StopCCN so that no half-open tunnel lingers on
 * the peer.
 */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { toBannerText, type DecodedReply, type UdpPayload } from './types.js';

const CONTROL_FLAGS = 0xc802; // T, L, S bits, version 2
const MANDATORY = 0x8000;
const AVP = { messageType: 0, resultCode: 1, protocolVersion: 2, framing: 3, hostName: 7, vendorName: 8, assignedTunnelId: 9 } as const;
export const L2TP_MESSAGE_TYPES: Record<number, string> = { 1: 'SCCRQ', 2: 'SCCRP', 3: 'SCCCN', 4: 'StopCCN', 6: 'HELLO' };
const SCCRQ = 1;
const SCCRP = 2;
const STOP_CCN = 4;

function avp(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16BE(MANDATORY | (6 + value.length), 0);
  header.writeUInt16BE(type, 4);
  return Buffer.concat([header, value]);
}

function uint16(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value, 0);
  return bytes;
}

function controlMessage(options: { tunnelId: number; ns: number; nr: number; avps: Buffer[] }): Buffer {
  const body = Buffer.concat(options.avps);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(CONTROL_FLAGS, 0);
  header.writeUInt16BE(12 + body.length, 2);
  header.writeUInt16BE(options.tunnelId, 4);
  header.writeUInt16BE(0, 6); // session id
  header.writeUInt16BE(options.ns, 8);
  header.writeUInt16BE(options.nr, 10);
  return Buffer.concat([header, body]);
}

export function buildSccrq(options: { assignedTunnelId: number; hostName?: string }): Buffer {
  const framing = Buffer.alloc(4);
  framing.writeUInt32BE(3, 0); // synchronous and asynchronous
  return controlMessage({
    tunnelId: 0,
    ns: 0,
    nr: 0,
    avps: [
      avp(AVP.messageType, uint16(SCCRQ)),
      avp(AVP.protocolVersion, Buffer.from([1, 0])),
      avp(AVP.framing, framing),
      avp(AVP.hostName, Buffer.from(options.hostName ?? 'portmatrix', 'ascii')),
      avp(AVP.assignedTunnelId, uint16(options.assignedTunnelId)),
    ],
  });
}

/** StopCCN for the tunnel the peer assigned, result code 1 (general request to clear). */
export function buildStopCcn(options: { peerTunnelId: number; ourTunnelId: number; ns: number; nr: number }): Buffer {
  return controlMessage({
    tunnelId: options.peerTunnelId,
    ns: options.ns,
    nr: options.nr,
    avps: [avp(AVP.messageType, uint16(STOP_CCN)), avp(AVP.assignedTunnelId, uint16(options.ourTunnelId)), avp(AVP.resultCode, uint16(1))],
  });
}

export interface L2tpControlMessage {
  tunnelId: number;
  ns: number;
  nr: number;
  messageType: string | null;
  hostName: string | null;
  vendorName: string | null;
  assignedTunnelId: number | null;
}

export function decodeL2tpControl(buffer: Buffer): L2tpControlMessage | null {
  if (buffer.length < 12 || (buffer.readUInt16BE(0) & 0x800f) !== 0x8002) return null;
  const length = Math.min(buffer.readUInt16BE(2), buffer.length);
  const message: L2tpControlMessage = {
    tunnelId: buffer.readUInt16BE(4),
    ns: buffer.readUInt16BE(8),
    nr: buffer.readUInt16BE(10),
    messageType: null,
    hostName: null,
    vendorName: null,
    assignedTunnelId: null,
  };
  for (let offset = 12; offset + 6 <= length; ) {
    const avpLength = buffer.readUInt16BE(offset) & 0x3ff;
    if (avpLength < 6 || offset + avpLength > length) break;
    const vendor = buffer.readUInt16BE(offset + 2);
    const type = buffer.readUInt16BE(offset + 4);
    const value = buffer.subarray(offset + 6, offset + avpLength);
    if (vendor === 0) {
      if (type === AVP.messageType && value.length >= 2) {
        const code = value.readUInt16BE(0);
        message.messageType = L2TP_MESSAGE_TYPES[code] ?? `type ${code}`;
      }
      if (type === AVP.hostName) message.hostName = value.toString('latin1');
      if (type === AVP.vendorName) message.vendorName = value.toString('latin1');
      if (type === AVP.assignedTunnelId && value.length >= 2) message.assignedTunnelId = value.readUInt16BE(0);
    }
    offset += avpLength;
  }
  return message;
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const message = decodeL2tpControl(reply);
  if (!message?.messageType) return null;
  const who = [message.hostName, message.vendorName].filter((part) => part).join(', ');
  return { banner: toBannerText(`L2TP ${message.messageType}${who ? ` (${who})` : ''}`) };
}

function farewell(reply: Buffer): Buffer | null {
  const message = decodeL2tpControl(reply);
  if (!message || message.messageType !== L2TP_MESSAGE_TYPES[SCCRP] || message.assignedTunnelId === null) return null;
  // Our SCCRQ was Ns 0, so this is Ns 1; we acknowledge the SCCRP (its Ns + 1).
  return buildStopCcn({ peerTunnelId: message.assignedTunnelId, ourTunnelId: message.tunnelId, ns: 1, nr: message.ns + 1 });
}

export const l2tpPayload: UdpPayload = {
  service: 'l2tp',
  build: () => [buildSccrq({ assignedTunnelId: randomInt(1, 0x10000) })],
  decode: decodeReply,
  farewell,
};
