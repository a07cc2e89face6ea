/**
 * DHCPINFORM sent unicast from an ordinary port (RFC 2131 4.3.5): a client that already has
 * an address asks for configuration only, so the server allocates nothing. With ciaddr equal
 * to our source address, servers such as dnsmasq answer to the source port; others answer
 * to port 68 only, which a connected socket cannot see (the port then stays open|filtered).
 * IPv4 only: DHCPv6 is another protocol.
 */
import { Buffer } from 'node:buffer';
import { isIPv4 } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { toBannerText, type DecodedReply, type UdpPayload } from './types.js';

const BOOTREQUEST = 1;
const BOOTREPLY = 2;
const MAGIC_COOKIE = 0x63825363;
const OPTION = { messageType: 53, serverId: 54, parameterList: 55, message: 56, end: 255 } as const;
export const DHCP_MESSAGE_TYPES = ['', 'DHCPDISCOVER', 'DHCPOFFER', 'DHCPREQUEST', 'DHCPDECLINE', 'DHCPACK', 'DHCPNAK', 'DHCPRELEASE', 'DHCPINFORM'];
const DHCPINFORM = 8;

function ipv4Bytes(address: string): Buffer {
  return Buffer.from((isIPv4(address) ? address : '0.0.0.0').split('.').map(Number));
}

export function buildDhcpInform(options: { xid: number; clientAddress: string; hardwareAddress: Buffer }): Buffer {
  const fixed = Buffer.alloc(236);
  fixed[0] = BOOTREQUEST;
  fixed[1] = 1; // Ethernet
  fixed[2] = 6;
  fixed.writeUInt32BE(options.xid >>> 0, 4);
  ipv4Bytes(options.clientAddress).copy(fixed, 12); // ciaddr
  options.hardwareAddress.copy(fixed, 28, 0, 6);
  const cookie = Buffer.alloc(4);
  cookie.writeUInt32BE(MAGIC_COOKIE, 0);
  const options_ = Buffer.from([OPTION.messageType, 1, DHCPINFORM, OPTION.parameterList, 3, 1, 3, 6, OPTION.end]);
  return Buffer.concat([fixed, cookie, options_]);
}

export interface DhcpMessage {
  op: number;
  xid: number;
  clientAddress: string;
  messageType: string | null;
  serverId: string | null;
  message: string | null;
}

export function decodeDhcpMessage(buffer: Buffer): DhcpMessage | null {
  if (buffer.length < 240 || buffer.readUInt32BE(236) !== MAGIC_COOKIE) return null;
  const message: DhcpMessage = {
    op: buffer[0] ?? 0,
    xid: buffer.readUInt32BE(4),
    clientAddress: [...buffer.subarray(12, 16)].join('.'),
    messageType: null,
    serverId: null,
    message: null,
  };
  for (let offset = 240; offset < buffer.length; ) {
    const code = buffer[offset] ?? OPTION.end;
    if (code === OPTION.end) break;
    if (code === 0) {
      offset++;
      continue;
    }
    const length = buffer[offset + 1] ?? 0;
    const value = buffer.subarray(offset + 2, offset + 2 + length);
    if (code === OPTION.messageType) message.messageType = DHCP_MESSAGE_TYPES[value[0] ?? 0] ?? `type ${value[0]}`;
    if (code === OPTION.serverId && length === 4) message.serverId = [...value].join('.');
    if (code === OPTION.message) message.message = value.toString('latin1');
    offset += 2 + length;
  }
  return message;
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const message = decodeDhcpMessage(reply);
  if (!message || message.op !== BOOTREPLY) return null;
  const server = message.serverId ? ` from ${message.serverId}` : '';
  return { banner: toBannerText(`${message.messageType ?? 'BOOTREPLY'}${server}`) };
}

export const dhcpPayload: UdpPayload = {
  service: 'dhcp',
  build: (context) => [
    buildDhcpInform({
      xid: randomInt(1, 0x7fffffff),
      clientAddress: context.localAddress,
      // Locally administered unicast MAC: never a real device's.
      hardwareAddress: Buffer.concat([Buffer.from([0x02]), randomBytes(5)]),
    }),
  ],
  decode: decodeReply,
};
