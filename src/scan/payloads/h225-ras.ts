/**
 * H.225.0 RAS GatekeeperRequest (ITU-T H.225.0, ASN.1 aligned PER), the discovery message a
 * terminal sends to 1718/1719. The gatekeeper answers with GatekeeperConfirm or Reject to the
 * rasAddress inside the message, which is therefore our own address and port.
 *
 * Layout (aligned PER, no extensions present):
 *   RasMessage CHOICE (extensible, 25 root alternatives): 1 bit ext + 5 bits index
 *   GatekeeperRequest SEQUENCE: 1 bit ext + 4 optional-field bits; then octet-aligned
 *     requestSeqNum INTEGER (1..65535): 2 octets, value - 1
 *     protocolIdentifier OBJECT IDENTIFIER: length octet + BER contents
 *     rasAddress TransportAddress CHOICE (extensible, 7 alternatives): 1 bit ext + 3 bits index,
 *       ipAddress { ip OCTET STRING (SIZE(4)), port INTEGER (0..65535) }, octet-aligned
 *       ip6Address { ..., ip OCTET STRING (SIZE(16)), port } (extensible: 1 more bit)
 *     endpointType EndpointType SEQUENCE: 1 bit ext + 6 optional bits (terminal present),
 *       mc BOOLEAN, undefinedNode BOOLEAN, terminal TerminalInfo (1 bit ext + 1 optional bit)
 */
import { Buffer } from 'node:buffer';
import { isIPv4, isIPv6 } from 'node:net';
import { randomInt } from 'node:crypto';
import type { DecodedReply, UdpPayload } from './types.js';

/** {itu-t(0) recommendation(0) h(8) 2250 version(0) 4}, BER contents. */
const H225_PROTOCOL_ID_V4 = Buffer.from([0x00, 0x08, 0x91, 0x4a, 0x00, 0x04]);

export const RAS_MESSAGE_NAMES = [
  'gatekeeperRequest',
  'gatekeeperConfirm',
  'gatekeeperReject',
  'registrationRequest',
  'registrationConfirm',
  'registrationReject',
  'unregistrationRequest',
  'unregistrationConfirm',
  'unregistrationReject',
  'admissionRequest',
  'admissionConfirm',
  'admissionReject',
  'bandwidthRequest',
  'bandwidthConfirm',
  'bandwidthReject',
  'disengageRequest',
  'disengageConfirm',
  'disengageReject',
  'locationRequest',
  'locationConfirm',
  'locationReject',
  'infoRequest',
  'infoRequestResponse',
  'nonStandardMessage',
  'unknownMessageResponse',
] as const;

function expandIpv6(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = [...headParts, ...Array(8 - headParts.length - tailParts.length).fill('0'), ...tailParts];
  const bytes = Buffer.alloc(16);
  groups.slice(0, 8).forEach((group, index) => bytes.writeUInt16BE(Number.parseInt(group || '0', 16), index * 2));
  return bytes;
}

function encodeTransportAddress(address: string, port: number): Buffer {
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port, 0);
  if (isIPv6(address) && !isIPv4(address)) {
    // ext 0, index 3 (ip6Address) = 0011, then the SEQUENCE's ext bit 0: 0b0011_0000, padded.
    return Buffer.concat([Buffer.from([0x30]), expandIpv6(address), portBytes]);
  }
  // ext 0, index 0 (ipAddress) = 0000, padded.
  return Buffer.concat([Buffer.from([0x00]), Buffer.from(address.split('.').map(Number)), portBytes]);
}

export function buildGatekeeperRequest(options: { requestSeqNum: number; rasAddress: string; rasPort: number }): Buffer {
  const header = Buffer.from([0x00, 0x00]); // choice 0 (GRQ), no extensions, no optional fields, padding
  const seq = Buffer.alloc(2);
  seq.writeUInt16BE(options.requestSeqNum - 1, 0);
  const protocol = Buffer.concat([Buffer.from([H225_PROTOCOL_ID_V4.length]), H225_PROTOCOL_ID_V4]);
  // EndpointType: ext 0, optionals 000001 (terminal), mc 0 | undefinedNode 0, TerminalInfo ext 0, optional 0.
  const endpointType = Buffer.from([0x02, 0x00]);
  return Buffer.concat([header, seq, protocol, encodeTransportAddress(options.rasAddress, options.rasPort), endpointType]);
}

export interface RasMessage {
  type: string;
  /** For GRQ / GCF / GRJ, whose first field is requestSeqNum. */
  requestSeqNum: number | null;
}

export function decodeRasMessage(buffer: Buffer): RasMessage | null {
  const first = buffer[0];
  if (first === undefined) return null;
  if (first & 0x80) return { type: 'extension', requestSeqNum: null };
  const index = (first >> 2) & 0x1f;
  const type = RAS_MESSAGE_NAMES[index];
  if (type === undefined) return null;
  const hasSeq = index <= 2 && buffer.length >= 4;
  return { type, requestSeqNum: hasSeq ? buffer.readUInt16BE(2) + 1 : null };
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const message = decodeRasMessage(reply);
  if (!message || message.type === 'gatekeeperRequest') return null;
  return { banner: `H.225.0 RAS ${message.type}` };
}

export const h225RasPayload: UdpPayload = {
  service: 'h225-ras',
  build: (context) => [
    buildGatekeeperRequest({ requestSeqNum: randomInt(1, 0x10000), rasAddress: context.localAddress, rasPort: context.localPort }),
  ],
  decode: decodeReply,
};
