import { describe, expect, it } from 'vitest';
import { parseIcmp4Error, parseIcmp6Error } from '../../../src/scan/icmp-listener.js';

/** An ICMPv6 error as a raw ICMPv6 socket delivers it: the message, then the quoted IPv6 header and UDP header. */
function icmp6Error(type: number, code: number, options: { nextHeader?: number; destination?: string } = {}): Buffer {
  const packet = Buffer.alloc(8 + 40 + 8);
  packet[0] = type;
  packet[1] = code;
  packet[8] = 0x60; // version 6
  packet[8 + 6] = options.nextHeader ?? 17;
  const groups = (options.destination ?? '2001:db8:0:0:0:0:0:a').split(':');
  groups.forEach((group, index) => packet.writeUInt16BE(Number.parseInt(group, 16), 8 + 24 + index * 2));
  packet.writeUInt16BE(40001, 48); // our local port
  packet.writeUInt16BE(5060, 50); // the target's port
  return packet;
}

describe('parseIcmp6Error', () => {
  it('reads type, code, ports and the quoted destination in canonical text', () => {
    expect(parseIcmp6Error(icmp6Error(1, 4))).toEqual({ type: 1, code: 4, localPort: 40001, remotePort: 5060, remoteAddress: '2001:db8::a' });
    expect(parseIcmp6Error(icmp6Error(1, 1, { destination: 'fd70:6d74:6573:0:0:0:0:2' }))?.remoteAddress).toBe('fd70:6d74:6573::2');
  });

  it('ignores Packet Too Big (type 2), informational messages and errors quoting something else than UDP', () => {
    expect(parseIcmp6Error(icmp6Error(2, 0))).toBeNull();
    expect(parseIcmp6Error(icmp6Error(128, 0))).toBeNull();
    expect(parseIcmp6Error(icmp6Error(1, 4, { nextHeader: 6 }))).toBeNull();
    expect(parseIcmp6Error(icmp6Error(1, 4).subarray(0, 40))).toBeNull();
  });
});

describe('parseIcmp4Error', () => {
  it('reads an IPv4 port unreachable quoting our datagram', () => {
    const packet = Buffer.alloc(20 + 8 + 20 + 8);
    packet[0] = 0x45;
    packet[20] = 3;
    packet[21] = 3;
    packet[28] = 0x45;
    packet[28 + 9] = 17;
    Buffer.from([198, 18, 0, 2]).copy(packet, 28 + 16);
    packet.writeUInt16BE(40001, 48);
    packet.writeUInt16BE(161, 50);
    expect(parseIcmp4Error(packet)).toEqual({ type: 3, code: 3, localPort: 40001, remotePort: 161, remoteAddress: '198.18.0.2' });
  });
});
