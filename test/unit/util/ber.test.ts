/** The one BER codec (src/util/ber.ts) the SNMP prober, the LDAP check and the emulator share. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { replySnmp } from '../../../src/emulator/udp-responders.js';
import { buildSnmpGetRequest, decodeSnmpMessage, readSysDescr } from '../../../src/scan/payloads/snmp.js';
import {
  BER_TAG,
  decodeInteger,
  decodeOid,
  encodeInteger,
  encodeLength,
  encodeOid,
  readChildren,
  readElement,
  readLeadingElements,
  tlv,
} from '../../../src/util/ber.js';

describe('lengths', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '8180'],
    [255, '81ff'],
    [256, '820100'],
    [65_535, '82ffff'],
    [65_536, '83010000'],
    [1_000_000, '830f4240'],
  ])('%i is encoded %s (short form up to 127, then the fewest length octets) and read back', (length, hex) => {
    expect(encodeLength(length).toString('hex')).toBe(hex);
    const content = Buffer.alloc(length, 0xab);
    const element = readElement(tlv(BER_TAG.octetString, content), 0);
    expect(element?.tag).toBe(BER_TAG.octetString);
    expect(element?.value.length).toBe(length);
    expect(element?.end).toBe(1 + hex.length / 2 + length);
  });
});

describe('INTEGER', () => {
  it.each([
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [255, '020200ff'],
    [256, '02020100'],
    [-1, '0201ff'],
    [-128, '020180'],
    [-129, '0202ff7f'],
    [0x7fff_ffff, '02047fffffff'],
    [-0x8000_0000, '020480000000'],
    [0xffff_ffff, '020500ffffffff'],
  ])('%i <-> %s (fewest two\'s-complement octets)', (value, hex) => {
    const encoded = encodeInteger(value);
    expect(encoded.toString('hex')).toBe(hex);
    expect(decodeInteger(readElement(encoded, 0)!.value)).toBe(value);
  });

  it('keeps the tag it is given (ENUMERATED, BOOLEAN)', () => {
    expect(encodeInteger(3, BER_TAG.enumerated).toString('hex')).toBe('0a0103');
  });

  it('refuses a number it cannot encode exactly', () => {
    expect(() => encodeInteger(1.5)).toThrow(RangeError);
    expect(() => encodeInteger(2 ** 53)).toThrow(RangeError);
  });
});

describe('OBJECT IDENTIFIER', () => {
  it.each([
    ['1.3.6.1.2.1.1.1.0', '06082b06010201010100'],
    ['1.3.6.1.4.1.6889.2.1', '06092b06010401b5690201'],
    ['2.999.3', '0603883703'],
    ['0.39', '060127'],
    ['1.3.6.1.4.1.4294967295', '060a2b060104018fffffff7f'],
  ])('%s round-trips', (oid, hex) => {
    const encoded = encodeOid(oid);
    expect(encoded.toString('hex')).toBe(hex);
    expect(decodeOid(readElement(encoded, 0)!.value)).toBe(oid);
  });

  it('encodes an arc above 127 in base 128 with continuation bits (6889 = 0xb5 0x69)', () => {
    expect(encodeOid('1.3.6889').toString('hex')).toBe('06032bb569');
  });

  it('refuses what is not an OID, and decodes a truncated or empty one as null', () => {
    for (const bad of ['1', '3.1', '1.40', '1.x.3', '1.-2']) expect(() => encodeOid(bad)).toThrow(RangeError);
    expect(decodeOid(Buffer.alloc(0))).toBeNull();
    expect(decodeOid(Buffer.from([0x2b, 0x86]))).toBeNull();
  });
});

describe('reading untrusted bytes', () => {
  const sequence = tlv(BER_TAG.sequence, Buffer.concat([encodeInteger(5), tlv(BER_TAG.octetString, Buffer.from('abc'))]));

  it('reads the children of a constructed value, and the whole elements at the start of a stream', () => {
    const children = readChildren(readElement(sequence, 0)!.value);
    expect(children?.map((child) => child.tag)).toEqual([BER_TAG.integer, BER_TAG.octetString]);
    expect(children?.[1]?.value.toString()).toBe('abc');
    const stream = Buffer.concat([sequence, sequence, sequence.subarray(0, 4)]);
    expect(readLeadingElements(stream)).toHaveLength(2);
  });

  it.each([
    ['empty', ''],
    ['a tag alone', '30'],
    ['content shorter than the length', '3005020105'],
    ['indefinite length', '3080020100 0000'],
    ['more length octets than the buffer', '3082 01'],
    ['4 length octets', '3084 00000001 00'],
    ['a length past the end', '30 83 ffffff 00'],
  ])('%s: null, no throw', (_name, hex) => {
    expect(readElement(Buffer.from(hex.replace(/ /g, ''), 'hex'), 0)).toBeNull();
  });

  it('a constructed value with trailing garbage has no children (null), a stream keeps what was whole', () => {
    const content = Buffer.concat([encodeInteger(1), Buffer.from([0x04, 0x05, 0x61])]);
    expect(readChildren(content)).toBeNull();
    expect(readLeadingElements(content)).toHaveLength(1);
    expect(readElement(content, -1)).toBeNull();
    expect(readElement(content, 99)).toBeNull();
  });

  it('random and mutated bytes never make a decoder throw', () => {
    const request = buildSnmpGetRequest({ version: 'v2c', community: 'public', requestId: 42 });
    for (let round = 0; round < 3000; round++) {
      const bytes = round % 2 === 0 ? randomBytes(round % 64) : Buffer.from(request);
      if (round % 2 === 1) for (let flips = 0; flips < 3; flips++) bytes[(round * 7 + flips * 13) % bytes.length] = randomBytes(1)[0]!;
      expect(() => {
        readLeadingElements(bytes);
        readChildren(bytes);
        decodeOid(bytes);
        decodeSnmpMessage(bytes);
        replySnmp(bytes);
      }).not.toThrow();
    }
  });
});

describe('one codec on both ends', () => {
  it('the emulator answers the prober\'s GetRequest with a GetResponse the prober decodes', () => {
    const request = buildSnmpGetRequest({ version: 'v2c', community: 'n0t-public', requestId: 0x1234_5678 });
    const reply = replySnmp(request);
    const message = decodeSnmpMessage(reply!);
    expect(message).toMatchObject({ version: 1, community: 'n0t-public', requestId: 0x1234_5678, errorStatus: 0 });
    expect(readSysDescr(message!)).toContain('portmatrix emulator');
  });
});
