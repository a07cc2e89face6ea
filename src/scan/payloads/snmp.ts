/**
 * SNMP v1 / v2c GetRequest for sysDescr.0 (BER), and a decoder for the GetResponse.
 * A wrong community gets no answer from net-snmp (it drops the request), so silence on 161 is
 * not proof of a closed agent; a reply of any kind is an open one.
 */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { toBannerText, type DecodedReply, type ProbeContext, type UdpPayload } from './types.js';

export const SYS_DESCR_OID = '1.3.6.1.2.1.1.1.0';
export type SnmpVersion = 'v1' | 'v2c';
const VERSION_NUMBER: Record<SnmpVersion, number> = { v1: 0, v2c: 1 };

const TAG = {
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
  getRequest: 0xa0,
  getResponse: 0xa2,
} as const;

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  return Buffer.from([0x82, length >> 8, length & 0xff]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

function encodeInteger(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0); // stay positive
  return tlv(TAG.integer, Buffer.from(bytes));
}

function encodeOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const bytes: number[] = [(arcs[0] ?? 0) * 40 + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let rest = arc >>> 7; rest > 0; rest >>>= 7) chunk.unshift((rest & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(TAG.oid, Buffer.from(bytes));
}

export function buildSnmpGetRequest(options: { version: SnmpVersion; community: string; requestId: number; oid?: string }): Buffer {
  const varbind = tlv(TAG.sequence, Buffer.concat([encodeOid(options.oid ?? SYS_DESCR_OID), tlv(TAG.null, Buffer.alloc(0))]));
  const pdu = tlv(
    TAG.getRequest,
    Buffer.concat([encodeInteger(options.requestId), encodeInteger(0), encodeInteger(0), tlv(TAG.sequence, varbind)]),
  );
  return tlv(
    TAG.sequence,
    Buffer.concat([encodeInteger(VERSION_NUMBER[options.version]), tlv(TAG.octetString, Buffer.from(options.community, 'latin1')), pdu]),
  );
}

interface Tlv {
  tag: number;
  value: Buffer;
  end: number;
}

function readTlv(buffer: Buffer, offset: number): Tlv | null {
  const tag = buffer[offset];
  let length = buffer[offset + 1];
  if (tag === undefined || length === undefined) return null;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3 || start + count > buffer.length) return null;
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + (buffer[start + index] ?? 0);
    start += count;
  }
  if (start + length > buffer.length) return null;
  return { tag, value: buffer.subarray(start, start + length), end: start + length };
}

function readChildren(buffer: Buffer): Tlv[] | null {
  const children: Tlv[] = [];
  for (let offset = 0; offset < buffer.length; ) {
    const child = readTlv(buffer, offset);
    if (!child) return null;
    children.push(child);
    offset = child.end;
  }
  return children;
}

function decodeInteger(value: Buffer): number {
  let result = (value[0] ?? 0) & 0x80 ? -1 : 0;
  for (const byte of value) result = result * 256 + byte;
  return result;
}

function decodeOid(value: Buffer): string {
  const first = value[0] ?? 0;
  const arcs = [Math.floor(first / 40), first % 40];
  let current = 0;
  for (const byte of value.subarray(1)) {
    current = current * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(current);
      current = 0;
    }
  }
  return arcs.join('.');
}

export interface SnmpMessage {
  version: number;
  community: string;
  pduType: number;
  requestId: number;
  errorStatus: number;
  varbinds: { oid: string; type: number; value: Buffer }[];
}

/** Decodes any SNMP v1/v2c message; null when the bytes are not one. */
export function decodeSnmpMessage(buffer: Buffer): SnmpMessage | null {
  const message = readTlv(buffer, 0);
  if (!message || message.tag !== TAG.sequence) return null;
  const [version, community, pdu] = readChildren(message.value) ?? [];
  if (version?.tag !== TAG.integer || community?.tag !== TAG.octetString || !pdu) return null;
  const [requestId, errorStatus, , varbindList] = readChildren(pdu.value) ?? [];
  if (requestId?.tag !== TAG.integer || errorStatus?.tag !== TAG.integer || varbindList?.tag !== TAG.sequence) return null;
  const varbinds: SnmpMessage['varbinds'] = [];
  for (const varbind of readChildren(varbindList.value) ?? []) {
    const [name, value] = readChildren(varbind.value) ?? [];
    if (name?.tag !== TAG.oid || !value) return null;
    varbinds.push({ oid: decodeOid(name.value), type: value.tag, value: value.value });
  }
  return {
    version: decodeInteger(version.value),
    community: community.value.toString('latin1'),
    pduType: pdu.tag,
    requestId: decodeInteger(requestId.value),
    errorStatus: decodeInteger(errorStatus.value),
    varbinds,
  };
}

/** The sysDescr of a GetResponse, or null (an error status or an exception still proves an agent). */
export function readSysDescr(message: SnmpMessage): string | null {
  if (message.pduType !== TAG.getResponse || message.errorStatus !== 0) return null;
  const varbind = message.varbinds.find((entry) => entry.oid === SYS_DESCR_OID);
  return varbind?.type === TAG.octetString ? varbind.value.toString('utf8') : null;
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const message = decodeSnmpMessage(reply);
  if (!message || message.pduType !== TAG.getResponse) return null;
  const sysDescr = readSysDescr(message);
  return sysDescr === null ? {} : { banner: toBannerText(sysDescr) };
}

/** One attempt sends both versions: agents configured for v1 only ignore v2c, and the other way round. */
export const snmpPayload: UdpPayload = {
  service: 'snmp',
  build: (context: ProbeContext) => {
    const requestId = randomInt(1, 0x7fffffff);
    return [
      buildSnmpGetRequest({ version: 'v2c', community: context.snmpCommunity, requestId }),
      buildSnmpGetRequest({ version: 'v1', community: context.snmpCommunity, requestId }),
    ];
  },
  decode: decodeReply,
};
