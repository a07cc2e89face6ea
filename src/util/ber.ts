/**
 * BER (X.690), the subset SNMP and LDAP need: single-byte tags, definite lengths, INTEGER, OID.
 * One codec for the prober (src/scan/payloads/snmp.ts), the service check (src/checks/probes/ldap.ts)
 * and the emulator (src/emulator/udp-responders.ts). Decoders read untrusted bytes: they return
 * null for anything malformed and never throw.
 */
import { Buffer } from 'node:buffer';

export const BER_TAG = {
  boolean: 0x01,
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  enumerated: 0x0a,
  sequence: 0x30,
} as const;

/** Long-form lengths of more than this many octets are refused: 16 MiB is far beyond any datagram or answer read. */
const MAX_LENGTH_OCTETS = 3;

export interface BerElement {
  tag: number;
  /** The content octets (a view into the buffer read). */
  value: Buffer;
  /** Offset just past the element: where the next one starts. */
  end: number;
}

export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** A signed integer in the fewest two's-complement octets (X.690 8.3). */
export function encodeInteger(value: number, tag: number = BER_TAG.integer): Buffer {
  if (!Number.isSafeInteger(value)) throw new RangeError(`BER integer out of range: ${value}`);
  const bytes: number[] = [];
  let rest = BigInt(value);
  for (;;) {
    bytes.unshift(Number(BigInt.asUintN(8, rest)));
    rest >>= 8n;
    const negative = (bytes[0]! & 0x80) !== 0;
    if ((rest === 0n && !negative) || (rest === -1n && negative)) break;
  }
  return tlv(tag, Buffer.from(bytes));
}

export function decodeInteger(value: Buffer): number {
  let result = (value[0] ?? 0) & 0x80 ? -1 : 0;
  for (const byte of value) result = result * 256 + byte;
  return result;
}

function base128(arc: number): number[] {
  const chunk = [arc % 128];
  for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) chunk.unshift((rest % 128) | 0x80);
  return chunk;
}

/** "1.3.6.1.2.1.1.1.0" -> OBJECT IDENTIFIER; the first two arcs share one subidentifier (X.690 8.19). */
export function encodeOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0) || arcs[0]! > 2 || (arcs[0]! < 2 && arcs[1]! > 39)) {
    throw new RangeError(`not an object identifier: ${oid}`);
  }
  const bytes = [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)].flatMap(base128);
  return tlv(BER_TAG.oid, Buffer.from(bytes));
}

/** The dotted form of an OID's content; null when it is empty or ends inside a subidentifier. */
export function decodeOid(value: Buffer): string | null {
  const subidentifiers: number[] = [];
  let current = 0;
  for (const byte of value) {
    current = current * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      subidentifiers.push(current);
      current = 0;
    }
  }
  if (subidentifiers.length === 0 || (value[value.length - 1]! & 0x80) !== 0) return null;
  const first = subidentifiers[0]!;
  const top = first < 80 ? Math.floor(first / 40) : 2;
  return [top, first - top * 40, ...subidentifiers.slice(1)].join('.');
}

/** The element at offset, or null when the buffer does not hold all of it (or its length is indefinite or too long). */
export function readElement(buffer: Buffer, offset: number): BerElement | null {
  if (offset < 0 || offset + 2 > buffer.length) return null;
  const tag = buffer[offset]!;
  let length = buffer[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > MAX_LENGTH_OCTETS || start + count > buffer.length) return null;
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + buffer[start + index]!;
    start += count;
  }
  if (start + length > buffer.length) return null;
  return { tag, value: buffer.subarray(start, start + length), end: start + length };
}

/** The whole elements at the start of a buffer, up to the first one not complete (a stream still arriving). */
export function readLeadingElements(buffer: Buffer): BerElement[] {
  const elements: BerElement[] = [];
  for (let offset = 0; offset < buffer.length; ) {
    const element = readElement(buffer, offset);
    if (!element) break;
    elements.push(element);
    offset = element.end;
  }
  return elements;
}

/** The elements a constructed value's content consists of; null unless it is exactly whole elements. */
export function readChildren(content: Buffer): BerElement[] | null {
  const elements = readLeadingElements(content);
  const end = elements[elements.length - 1]?.end ?? 0;
  return end === content.length ? elements : null;
}
