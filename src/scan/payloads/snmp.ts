/**
 * SNMP v1 / v2c GetRequest for sysDescr.0 (BER), and a decoder for the GetResponse.
 * A wrong community gets no answer from net-snmp (it drops the request), so silence on 161 is
 * not proof of a closed agent; a reply of any kind is an open one.
 */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { BER_TAG, decodeInteger, decodeOid, encodeInteger, encodeOid, readChildren, readElement, tlv } from '../../util/ber.js';
import { toBannerText, type DecodedReply, type ProbeContext, type UdpPayload } from './types.js';

export const SYS_DESCR_OID = '1.3.6.1.2.1.1.1.0';
export type SnmpVersion = 'v1' | 'v2c';
const VERSION_NUMBER: Record<SnmpVersion, number> = { v1: 0, v2c: 1 };

/** SNMP's own tags (RFC 1157, RFC 3416): the PDUs. */
const TAG = {
  ...BER_TAG,
  getRequest: 0xa0,
  getResponse: 0xa2,
} as const;

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
  const message = readElement(buffer, 0);
  if (!message || message.tag !== TAG.sequence) return null;
  const [version, community, pdu] = readChildren(message.value) ?? [];
  if (version?.tag !== TAG.integer || community?.tag !== TAG.octetString || !pdu) return null;
  const [requestId, errorStatus, , varbindList] = readChildren(pdu.value) ?? [];
  if (requestId?.tag !== TAG.integer || errorStatus?.tag !== TAG.integer || varbindList?.tag !== TAG.sequence) return null;
  const varbinds: SnmpMessage['varbinds'] = [];
  for (const varbind of readChildren(varbindList.value) ?? []) {
    const [name, value] = readChildren(varbind.value) ?? [];
    const oid = name?.tag === TAG.oid ? decodeOid(name.value) : null;
    if (oid === null || !value) return null;
    varbinds.push({ oid, type: value.tag, value: value.value });
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
