/**
 * Replies of the emulated UDP services: what the real service sends back to a scanner's probe.
 * Each responder answers a well-formed request of its protocol the way the service would
 * (SNMP GetResponse with a sysDescr, SIP 200 OK, NTP server reply, TFTP error packet, DNS
 * NXDOMAIN). A probe it cannot parse gets a short generic datagram instead: every open UDP
 * port of the emulator answers every probe, so its truth ("open") holds for any scanner.
 */
import { BER_TAG, decodeOid, encodeInteger, readElement, tlv } from '../util/ber.js';
import type { EmulatedUdpService } from './services.js';

export const EMULATED_SYS_DESCR = 'Avaya IP Office IP500 V2 9.1.0.0 build 178 (portmatrix emulator)';
const GENERIC_REPLY = Buffer.from('portmatrix-emulator\n');
const SYS_DESCR_OID = '1.3.6.1.2.1.1.1.0';
const NTP_EPOCH_OFFSET_S = 2_208_988_800;

/** SNMP PDUs (RFC 3416) and the v2c exception for an OID the agent does not have. */
const SNMP_TAG = { getRequest: 0xa0, getNextRequest: 0xa1, getResponse: 0xa2, noSuchObject: 0x80 } as const;

/** SNMP v1/v2c Get/GetNext -> GetResponse; sysDescr.0 gets EMULATED_SYS_DESCR, other OIDs noSuchObject (v2c) or the same text (v1). */
export function replySnmp(request: Buffer): Buffer | null {
  const message = readElement(request, 0);
  if (!message || message.tag !== BER_TAG.sequence) return null;
  const version = readElement(message.value, 0);
  if (!version || version.tag !== BER_TAG.integer || version.value.length !== 1 || (version.value[0] ?? 9) > 1) return null;
  const community = readElement(message.value, version.end);
  if (!community || community.tag !== BER_TAG.octetString) return null;
  const pdu = readElement(message.value, community.end);
  if (!pdu || (pdu.tag !== SNMP_TAG.getRequest && pdu.tag !== SNMP_TAG.getNextRequest)) return null;
  const requestId = readElement(pdu.value, 0);
  const errorStatus = requestId && readElement(pdu.value, requestId.end);
  const errorIndex = errorStatus && readElement(pdu.value, errorStatus.end);
  const varbindList = errorIndex && readElement(pdu.value, errorIndex.end);
  if (!requestId || !varbindList || varbindList.tag !== BER_TAG.sequence) return null;
  const varbinds: Buffer[] = [];
  for (let offset = 0; offset < varbindList.value.length; ) {
    const varbind = readElement(varbindList.value, offset);
    if (!varbind) return null;
    const oid = readElement(varbind.value, 0);
    if (!oid || oid.tag !== BER_TAG.oid) return null;
    const isSysDescr = decodeOid(oid.value) === SYS_DESCR_OID;
    const value = isSysDescr || version.value[0] === 0 ? tlv(BER_TAG.octetString, Buffer.from(EMULATED_SYS_DESCR)) : tlv(SNMP_TAG.noSuchObject, Buffer.alloc(0));
    varbinds.push(tlv(BER_TAG.sequence, Buffer.concat([tlv(BER_TAG.oid, oid.value), value])));
    offset = varbind.end;
  }
  const responsePdu = tlv(
    SNMP_TAG.getResponse,
    Buffer.concat([tlv(BER_TAG.integer, requestId.value), encodeInteger(0), encodeInteger(0), tlv(BER_TAG.sequence, Buffer.concat(varbinds))]),
  );
  return tlv(BER_TAG.sequence, Buffer.concat([tlv(BER_TAG.integer, version.value), tlv(BER_TAG.octetString, community.value), responsePdu]));
}

/** Any SIP request -> 200 OK that echoes the dialog headers, as an IP Office answers OPTIONS. */
export function replySip(request: Buffer): Buffer | null {
  const text = request.toString('latin1');
  const [requestLine, ...lines] = text.split(/\r?\n/);
  if (!requestLine || !/^[A-Z]+ \S+ SIP\/2\.0$/.test(requestLine.trim())) return null;
  const echoed = lines.filter((line) => /^(via|v|from|f|to|t|call-id|i|cseq)\s*:/i.test(line));
  const withTag = echoed.map((line) => (/^(to|t)\s*:/i.test(line) && !/;tag=/i.test(line) ? `${line};tag=pm-emulator` : line));
  const response = [
    'SIP/2.0 200 OK',
    ...withTag,
    'Server: IP Office 9.1.0.0 build 178 (portmatrix emulator)',
    'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, INFO, SUBSCRIBE, REGISTER, PRACK',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return Buffer.from(response, 'latin1');
}

function writeNtpTimestamp(buffer: Buffer, offset: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000) + NTP_EPOCH_OFFSET_S;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 2 ** 32);
  buffer.writeUInt32BE(seconds >>> 0, offset);
  buffer.writeUInt32BE(fraction >>> 0, offset + 4);
}

/** NTP client request (mode 3) -> server reply (mode 4, stratum 2), origin = the client's transmit time. */
export function replyNtp(request: Buffer, nowMs: number = Date.now()): Buffer | null {
  if (request.length < 48 || ((request[0] ?? 0) & 0x07) !== 3) return null;
  const versionBits = (request[0] ?? 0) & 0x38;
  const reply = Buffer.alloc(48);
  reply[0] = versionBits | 4;
  reply[1] = 2;
  reply[2] = request[2] ?? 6;
  reply.writeInt8(-20, 3);
  reply.writeUInt32BE(0x00000100, 4);
  reply.writeUInt32BE(0x00000200, 8);
  reply.write('EMUL', 12, 'latin1');
  writeNtpTimestamp(reply, 16, nowMs - 60_000);
  request.copy(reply, 24, 40, 48);
  writeNtpTimestamp(reply, 32, nowMs);
  writeNtpTimestamp(reply, 40, nowMs);
  return reply;
}

/** TFTP read/write request -> error packet 1 "File not found" (what a server says to an unknown file). */
export function replyTftp(request: Buffer): Buffer | null {
  if (request.length < 4 || request[0] !== 0 || (request[1] !== 1 && request[1] !== 2)) return null;
  return Buffer.concat([Buffer.from([0, 5, 0, 1]), Buffer.from('File not found\0', 'latin1')]);
}

/** DNS query -> NXDOMAIN response carrying the question. */
export function replyDns(request: Buffer): Buffer | null {
  if (request.length < 12 || ((request[2] ?? 0) & 0x80) !== 0 || request.readUInt16BE(4) < 1) return null;
  let offset = 12;
  while (offset < request.length && request[offset] !== 0) offset += (request[offset] ?? 0) + 1;
  const questionEnd = offset + 5;
  if (questionEnd > request.length) return null;
  const reply = Buffer.from(request.subarray(0, questionEnd));
  reply[2] = 0x80 | ((request[2] ?? 0) & 0x79); // QR, opcode and RD kept
  reply[3] = 0x80 | 3; // RA, NXDOMAIN
  reply.writeUInt16BE(1, 4);
  reply.writeUInt32BE(0, 6);
  reply.writeUInt16BE(0, 10);
  return reply;
}

const RESPONDERS: Record<Exclude<EmulatedUdpService, 'generic'>, (request: Buffer) => Buffer | null> = {
  snmp: replySnmp,
  sip: replySip,
  ntp: replyNtp,
  tftp: replyTftp,
  dns: replyDns,
};

/** The reply of an emulated UDP service to one datagram. */
export function replyTo(service: EmulatedUdpService, request: Buffer): Buffer {
  if (service === 'generic') return GENERIC_REPLY;
  return RESPONDERS[service](request) ?? GENERIC_REPLY;
}
