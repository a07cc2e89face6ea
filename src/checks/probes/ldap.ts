/**
 * LDAP rootDSE without a bind (RFC 4512 5.1): a base-scope search of the empty DN, which servers
 * answer anonymously with the versions they support, their naming contexts and often their vendor.
 * Then an unbind. The BER here is the few fixed shapes these two messages need, nothing general.
 */
import { Buffer } from 'node:buffer';
import type net from 'node:net';
import { toUntrustedLine } from '../../util/untrusted-text.js';
import { MAX_BANNER_LENGTH, MAX_READ_BYTES, type AppAnswer } from './app.js';
import { readFrom, send } from './socket.js';

const ROOT_DSE_ATTRIBUTES = ['supportedLDAPVersion', 'vendorName', 'vendorVersion', 'namingContexts'];

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

const octets = (text: string): Buffer => tlv(0x04, Buffer.from(text, 'utf8'));
const small = (tag: number, value: number): Buffer => tlv(tag, Buffer.from([value]));

/** LDAPMessage { messageID 1, SearchRequest { "", baseObject, neverDerefAliases, 0, 0, false, (objectClass=*), attributes } }. */
export function buildRootDseRequest(): Buffer {
  const search = tlv(
    0x63,
    Buffer.concat([
      octets(''),
      small(0x0a, 0),
      small(0x0a, 0),
      small(0x02, 0),
      small(0x02, 10),
      small(0x01, 0),
      tlv(0x87, Buffer.from('objectClass')),
      tlv(0x30, Buffer.concat(ROOT_DSE_ATTRIBUTES.map(octets))),
    ]),
  );
  return tlv(0x30, Buffer.concat([small(0x02, 1), search]));
}

const UNBIND_REQUEST = Buffer.from([0x30, 0x05, 0x02, 0x01, 0x02, 0x42, 0x00]);

interface Element {
  tag: number;
  content: Buffer;
  next: number;
}

/** One BER element at offset, or null when the buffer does not hold all of it. */
function readElement(buffer: Buffer, offset: number): Element | null {
  if (offset + 2 > buffer.length) return null;
  const tag = buffer[offset]!;
  let length = buffer[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3 || start + count > buffer.length) return null;
    length = 0;
    for (let index = 0; index < count; index++) length = (length << 8) | buffer[start + index]!;
    start += count;
  }
  if (start + length > buffer.length) return null;
  return { tag, content: buffer.subarray(start, start + length), next: start + length };
}

function children(content: Buffer): Element[] {
  const elements: Element[] = [];
  for (let offset = 0; offset < content.length; ) {
    const element = readElement(content, offset);
    if (!element) break;
    elements.push(element);
    offset = element.next;
  }
  return elements;
}

export interface RootDse {
  attributes: Map<string, string[]>;
  resultCode: number | null;
}

/** Reads the LDAP messages in a reply: the rootDSE entry's attributes and the search's result code; null when it is not LDAP. */
export function parseRootDseReply(reply: Buffer): RootDse | null {
  const attributes = new Map<string, string[]>();
  let resultCode: number | null = null;
  let sawLdap = false;
  for (const message of children(reply)) {
    if (message.tag !== 0x30) return sawLdap ? { attributes, resultCode } : null;
    const [id, operation] = children(message.content);
    if (id?.tag !== 0x02 || !operation) return null;
    sawLdap = true;
    if (operation.tag === 0x64) {
      const [, list] = children(operation.content);
      for (const attribute of children(list?.content ?? Buffer.alloc(0))) {
        const [type, values] = children(attribute.content);
        if (!type) continue;
        attributes.set(type.content.toString('utf8'), children(values?.content ?? Buffer.alloc(0)).map((value) => value.content.toString('utf8')));
      }
    } else if (operation.tag === 0x65) {
      resultCode = children(operation.content)[0]?.content[0] ?? null;
    }
  }
  return sawLdap ? { attributes, resultCode } : null;
}

function describeRootDse(rootDse: RootDse): string {
  const get = (name: string): string[] => [...rootDse.attributes].find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1] ?? [];
  const parts = [
    get('supportedLDAPVersion').length > 0 ? `LDAPv${get('supportedLDAPVersion').join('/')}` : 'LDAP',
    [...get('vendorName'), ...get('vendorVersion')].join(' '),
    get('namingContexts').length > 0 ? `namingContexts ${get('namingContexts').join(', ')}` : '',
    rootDse.resultCode !== null && rootDse.resultCode !== 0 ? `search result code ${rootDse.resultCode}` : '',
  ];
  return parts.filter((part) => part !== '').join('; ');
}

export async function probeLdap(socket: net.Socket, options: { timeoutMs: number; signal: AbortSignal }): Promise<AppAnswer> {
  send(socket, buildRootDseRequest());
  // Enough when the SearchResultDone (0x65) has arrived whole.
  const done = (data: Buffer): boolean => children(data).some((message) => children(message.content)[1]?.tag === 0x65);
  const read = await readFrom(socket, done, { maxBytes: MAX_READ_BYTES, timeoutMs: options.timeoutMs, signal: options.signal });
  if (read.data.length === 0) {
    return { status: 'silent', detail: read.timedOut ? `no answer to the rootDSE search within ${options.timeoutMs} ms` : 'closed the connection on the rootDSE search' };
  }
  const rootDse = parseRootDseReply(read.data);
  if (!rootDse) {
    const text = toUntrustedLine(read.data.toString('latin1'), MAX_BANNER_LENGTH);
    return { status: 'other', banner: text, detail: `expected an LDAP answer to the rootDSE search, got "${text}"` };
  }
  send(socket, UNBIND_REQUEST);
  return { status: 'answered', banner: toUntrustedLine(describeRootDse(rootDse), MAX_BANNER_LENGTH) };
}
