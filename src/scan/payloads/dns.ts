/**
 * DNS query for version.bind CH TXT: every server answers it, with its version or with
 * REFUSED / NOTIMP, and either is a reply. No recursion asked, so the server sends nothing on.
 */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { toBannerText, type DecodedReply, type UdpPayload } from './types.js';

export const DNS_TYPE_TXT = 16;
export const DNS_CLASS_CHAOS = 3;
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export function buildDnsQuery(options: { id: number; name?: string; type?: number; qclass?: number }): Buffer {
  const labels = (options.name ?? 'version.bind').split('.').filter((label) => label !== '');
  const name = Buffer.concat([...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id, 0);
  header.writeUInt16BE(0x0000, 2); // standard query, no recursion desired
  header.writeUInt16BE(1, 4);
  const question = Buffer.alloc(4);
  question.writeUInt16BE(options.type ?? DNS_TYPE_TXT, 0);
  question.writeUInt16BE(options.qclass ?? DNS_CLASS_CHAOS, 2);
  return Buffer.concat([header, name, question]);
}

export interface DnsMessage {
  id: number;
  isResponse: boolean;
  rcode: number;
  questionName: string;
  questionType: number;
  questionClass: number;
  /** Strings of TXT answers. */
  txt: string[];
}

/** Reads a (possibly compressed) name; returns it and the offset after it in the original place. */
function readName(buffer: Buffer, start: number): { name: string; next: number } | null {
  const labels: string[] = [];
  let offset = start;
  let next = -1;
  for (let jumps = 0; jumps < 32; ) {
    const length = buffer[offset];
    if (length === undefined) return null;
    if (length === 0) return { name: labels.join('.'), next: next === -1 ? offset + 1 : next };
    if ((length & 0xc0) === 0xc0) {
      if (next === -1) next = offset + 2;
      offset = ((length & 0x3f) << 8) | (buffer[offset + 1] ?? 0);
      jumps++;
      continue;
    }
    if (offset + 1 + length > buffer.length) return null;
    labels.push(buffer.toString('latin1', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  return null;
}

export function decodeDnsMessage(buffer: Buffer): DnsMessage | null {
  if (buffer.length < 12) return null;
  const flags = buffer.readUInt16BE(2);
  const questions = buffer.readUInt16BE(4);
  const answers = buffer.readUInt16BE(6);
  if (questions !== 1) return null;
  const question = readName(buffer, 12);
  if (!question || question.next + 4 > buffer.length) return null;
  const message: DnsMessage = {
    id: buffer.readUInt16BE(0),
    isResponse: (flags & 0x8000) !== 0,
    rcode: flags & 0xf,
    questionName: question.name,
    questionType: buffer.readUInt16BE(question.next),
    questionClass: buffer.readUInt16BE(question.next + 2),
    txt: [],
  };
  let offset = question.next + 4;
  for (let index = 0; index < answers; index++) {
    const owner = readName(buffer, offset);
    if (!owner || owner.next + 10 > buffer.length) break;
    const type = buffer.readUInt16BE(owner.next);
    const length = buffer.readUInt16BE(owner.next + 8);
    const dataStart = owner.next + 10;
    if (dataStart + length > buffer.length) break;
    if (type === DNS_TYPE_TXT) {
      for (let cursor = dataStart; cursor < dataStart + length; ) {
        const size = buffer[cursor] ?? 0;
        message.txt.push(buffer.toString('utf8', cursor + 1, Math.min(cursor + 1 + size, dataStart + length)));
        cursor += 1 + size;
      }
    }
    offset = dataStart + length;
  }
  return message;
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const message = decodeDnsMessage(reply);
  if (!message || !message.isResponse) return null;
  const text = message.txt.length > 0 ? message.txt.join(' ') : `rcode ${RCODE_NAMES[message.rcode] ?? message.rcode}`;
  return { banner: toBannerText(`DNS ${text}`) };
}

export const dnsPayload: UdpPayload = {
  service: 'dns',
  build: () => [buildDnsQuery({ id: randomInt(0, 0x10000) })],
  decode: decodeReply,
};
