/**
 * LDAP rootDSE without a bind (RFC 4512 5.1): a base-scope search of the empty DN, which servers
 * answer anonymously with the versions they support, their naming contexts and often their vendor.
 * Then an unbind. BER from src/util/ber.ts.
 */
import { Buffer } from 'node:buffer';
import type net from 'node:net';
import { toUntrustedLine } from '../../util/untrusted-text.js';
import { BER_TAG, encodeInteger, readLeadingElements, tlv } from '../../util/ber.js';
import { MAX_BANNER_LENGTH, MAX_READ_BYTES, type AppAnswer } from './app.js';
import { readFrom, send } from './socket.js';

const ROOT_DSE_ATTRIBUTES = ['supportedLDAPVersion', 'vendorName', 'vendorVersion', 'namingContexts'];

const octets = (text: string): Buffer => tlv(BER_TAG.octetString, Buffer.from(text, 'utf8'));

/** LDAPMessage { messageID 1, SearchRequest { "", baseObject, neverDerefAliases, 0, 0, false, (objectClass=*), attributes } }. */
export function buildRootDseRequest(): Buffer {
  const search = tlv(
    0x63,
    Buffer.concat([
      octets(''),
      encodeInteger(0, BER_TAG.enumerated),
      encodeInteger(0, BER_TAG.enumerated),
      encodeInteger(0),
      encodeInteger(10),
      encodeInteger(0, BER_TAG.boolean),
      tlv(0x87, Buffer.from('objectClass')),
      tlv(BER_TAG.sequence, Buffer.concat(ROOT_DSE_ATTRIBUTES.map(octets))),
    ]),
  );
  return tlv(BER_TAG.sequence, Buffer.concat([encodeInteger(1), search]));
}

const UNBIND_REQUEST = Buffer.from([0x30, 0x05, 0x02, 0x01, 0x02, 0x42, 0x00]);

export interface RootDse {
  attributes: Map<string, string[]>;
  resultCode: number | null;
}

/** Reads the LDAP messages in a reply: the rootDSE entry's attributes and the search's result code; null when it is not LDAP. */
export function parseRootDseReply(reply: Buffer): RootDse | null {
  const attributes = new Map<string, string[]>();
  let resultCode: number | null = null;
  let sawLdap = false;
  for (const message of readLeadingElements(reply)) {
    if (message.tag !== 0x30) return sawLdap ? { attributes, resultCode } : null;
    const [id, operation] = readLeadingElements(message.value);
    if (id?.tag !== 0x02 || !operation) return null;
    sawLdap = true;
    if (operation.tag === 0x64) {
      const [, list] = readLeadingElements(operation.value);
      for (const attribute of readLeadingElements(list?.value ?? Buffer.alloc(0))) {
        const [type, values] = readLeadingElements(attribute.value);
        if (!type) continue;
        attributes.set(type.value.toString('utf8'), readLeadingElements(values?.value ?? Buffer.alloc(0)).map((value) => value.value.toString('utf8')));
      }
    } else if (operation.tag === 0x65) {
      resultCode = readLeadingElements(operation.value)[0]?.value[0] ?? null;
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
  const done = (data: Buffer): boolean => readLeadingElements(data).some((message) => readLeadingElements(message.value)[1]?.tag === 0x65);
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
