/**
 * Each payload decodes what it builds (and the decoders read replies of the shape real servers
 * send, built here with the same encoders). Real servers answer these payloads in
 * test/integration/udp-services.test.ts.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { buildDhcpInform, decodeDhcpMessage, dhcpPayload } from '../../../../src/scan/payloads/dhcp.js';
import { buildDnsQuery, decodeDnsMessage, DNS_CLASS_CHAOS, DNS_TYPE_TXT, dnsPayload } from '../../../../src/scan/payloads/dns.js';
import { genericPayload, syslogPayload, timePayload } from '../../../../src/scan/payloads/generic.js';
import { buildGatekeeperRequest, decodeRasMessage, h225RasPayload } from '../../../../src/scan/payloads/h225-ras.js';
import { buildIaxPoke, decodeIaxFullFrame } from '../../../../src/scan/payloads/iax2.js';
import { choosePayload, PAYLOADS } from '../../../../src/scan/payloads/index.js';
import { serviceForProtocol } from '../../../../src/scan/payloads/services.js';
import { buildSccrq, buildStopCcn, decodeL2tpControl, l2tpPayload } from '../../../../src/scan/payloads/l2tp.js';
import { buildMgcpAuditEndpoint, decodeMgcpLine } from '../../../../src/scan/payloads/mgcp.js';
import { buildNtpRequest, decodeNtpPacket, ntpPayload } from '../../../../src/scan/payloads/ntp.js';
import { buildRipRequest, decodeRipPacket } from '../../../../src/scan/payloads/rip.js';
import { buildSipOptions, decodeSipMessage, sipPayload } from '../../../../src/scan/payloads/sip.js';
import { buildSnmpGetRequest, decodeSnmpMessage, snmpPayload, SYS_DESCR_OID } from '../../../../src/scan/payloads/snmp.js';
import { buildStunBindingRequest, decodeStunMessage } from '../../../../src/scan/payloads/stun.js';
import { buildTftpReadRequest, decodeTftpPacket, tftpPayload } from '../../../../src/scan/payloads/tftp.js';
import type { ProbeContext } from '../../../../src/scan/payloads/types.js';

const context: ProbeContext = {
  family: 4,
  localAddress: '198.18.0.1',
  localPort: 40001,
  address: '198.18.0.2',
  port: 161,
  snmpCommunity: 'public',
};

describe('SNMP GetRequest', () => {
  it('encodes v1 and v2c GetRequests for sysDescr.0 with the community', () => {
    for (const [version, number] of [['v1', 0], ['v2c', 1]] as const) {
      const message = decodeSnmpMessage(buildSnmpGetRequest({ version, community: 'n0t-public', requestId: 0x1234_5678 }));
      expect(message).toMatchObject({ version: number, community: 'n0t-public', pduType: 0xa0, requestId: 0x1234_5678, errorStatus: 0 });
      expect(message?.varbinds).toEqual([{ oid: SYS_DESCR_OID, type: 0x05, value: Buffer.alloc(0) }]);
    }
  });

  it('sends both versions with the configured community, and does not take its own request for a reply', () => {
    const datagrams = snmpPayload.build({ ...context, snmpCommunity: 'ops' });
    expect(datagrams.map((datagram) => decodeSnmpMessage(datagram)?.version)).toEqual([1, 0]);
    expect(datagrams.every((datagram) => decodeSnmpMessage(datagram)?.community === 'ops')).toBe(true);
    expect(snmpPayload.decode?.(datagrams[0] ?? Buffer.alloc(0), context)).toBeNull();
  });

  it('reads a long sysDescr (two-byte BER lengths) from a GetResponse and strips control characters', () => {
    const request = buildSnmpGetRequest({ version: 'v2c', community: 'public', requestId: 7 });
    const text = `Linux box 6.1 ${'x'.repeat(150)}\u001b[31m`;
    // A GetResponse is the request with PDU tag 0xa2 and the NULL replaced by an OCTET STRING.
    const value = Buffer.concat([Buffer.from([0x04, 0x81, Buffer.byteLength(text)]), Buffer.from(text)]);
    const response = rebuildWithValue(request, value);
    expect(snmpPayload.decode?.(response, context)?.banner).toBe(`Linux box 6.1 ${'x'.repeat(150)} [31m`);
  });
});

/** Re-encodes a GetRequest as a GetResponse carrying `value` (used only to exercise the decoder). */
function rebuildWithValue(request: Buffer, value: Buffer): Buffer {
  const message = decodeSnmpMessage(request);
  if (!message) throw new Error('request does not decode');
  const tlv = (tag: number, content: Buffer): Buffer =>
    Buffer.concat([Buffer.from(content.length < 0x80 ? [tag, content.length] : [tag, 0x81, content.length]), content]);
  const oid = Buffer.from([0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 1, 0]);
  const varbinds = tlv(0x30, tlv(0x30, Buffer.concat([oid, value])));
  const integer = (n: number): Buffer => tlv(0x02, Buffer.from([n]));
  const pdu = tlv(0xa2, Buffer.concat([integer(message.requestId), integer(0), integer(0), varbinds]));
  return tlv(0x30, Buffer.concat([integer(message.version), tlv(0x04, Buffer.from(message.community)), pdu]));
}

describe('SIP OPTIONS', () => {
  it('is a well-formed OPTIONS request addressed to the target with our Via', () => {
    const request = buildSipOptions({ ...context, port: 5060 }, { branch: 'b1', tag: 't1', callId: 'c1' });
    const message = decodeSipMessage(request);
    expect(message?.method).toBe('OPTIONS');
    expect(message?.headers.get('via')).toBe('SIP/2.0/UDP 198.18.0.1:40001;branch=z9hG4bKb1;rport');
    expect(message?.headers.get('cseq')).toBe('1 OPTIONS');
    expect(request.toString().endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
    expect(sipPayload.decode?.(request, context)).toBeNull();
  });

  it('brackets IPv6 addresses', () => {
    const request = buildSipOptions({ ...context, family: 6, localAddress: 'fd00::1', address: 'fd00::2', port: 5060 }, { branch: 'b', tag: 't', callId: 'c' });
    expect(request.toString().split('\r\n')[0]).toBe('OPTIONS sip:[fd00::2]:5060 SIP/2.0');
  });

  it('reads the status line and the Server header of a response', () => {
    const reply = Buffer.from('SIP/2.0 200 OK\r\nVia: x\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n');
    expect(sipPayload.decode?.(reply, context)).toEqual({ banner: 'SIP/2.0 200 OK; kamailio (5.6.3 (x86_64/linux))' });
  });
});

describe('NTP client request', () => {
  it('is a 48-byte version 4 client packet carrying our transmit nonce', () => {
    const nonce = Buffer.from('0102030405060708', 'hex');
    const packet = decodeNtpPacket(buildNtpRequest({ transmitTimestamp: nonce }));
    expect(packet).toMatchObject({ version: 4, mode: 3, stratum: 0 });
    expect(packet?.transmitTimestamp.equals(nonce)).toBe(true);
    expect(ntpPayload.decode?.(buildNtpRequest({ transmitTimestamp: nonce }), context)).toBeNull();
  });

  it('reads a server reply (mode 4)', () => {
    const reply = buildNtpRequest({ transmitTimestamp: Buffer.alloc(8) });
    reply[0] = (4 << 3) | 4;
    reply[1] = 1;
    reply.write('GPS\0', 12, 'latin1');
    expect(ntpPayload.decode?.(reply, context)?.banner).toBe('NTPv4 server, stratum 1 GPS');
  });
});

describe('DNS query', () => {
  it('asks version.bind CH TXT without recursion', () => {
    const message = decodeDnsMessage(buildDnsQuery({ id: 0xbeef }));
    expect(message).toEqual({ id: 0xbeef, isResponse: false, rcode: 0, questionName: 'version.bind', questionType: DNS_TYPE_TXT, questionClass: DNS_CLASS_CHAOS, txt: [] });
    expect(dnsPayload.build(context)).toHaveLength(1);
  });

  it('reads a TXT answer behind a compression pointer, and REFUSED', () => {
    const query = buildDnsQuery({ id: 1 });
    const answer = Buffer.concat([Buffer.from([0xc0, 12, 0, 16, 0, 3, 0, 0, 0, 0, 0, 13, 12]), Buffer.from('dnsmasq-2.89')]);
    const reply = Buffer.concat([query, answer]);
    reply.writeUInt16BE(0x8400, 2);
    reply.writeUInt16BE(1, 6);
    expect(dnsPayload.decode?.(reply, context)).toEqual({ banner: 'DNS dnsmasq-2.89' });
    const refused = Buffer.from(query);
    refused.writeUInt16BE(0x8005, 2);
    expect(dnsPayload.decode?.(refused, context)).toEqual({ banner: 'DNS rcode REFUSED' });
  });
});

describe('TFTP read request', () => {
  it('asks for a random file that does not exist, in octet mode, and expects replies from another port', () => {
    const [datagram] = tftpPayload.build(context);
    const packet = decodeTftpPacket(datagram ?? Buffer.alloc(0));
    expect(packet).toMatchObject({ opcode: 'rrq', mode: 'octet' });
    expect(packet?.opcode === 'rrq' && packet.filename).toMatch(/^portmatrix-probe-[0-9a-f]{12}$/);
    expect(tftpPayload.repliesFromOtherPort).toBe(true);
    expect(decodeTftpPacket(buildTftpReadRequest({ filename: 'a.bin', mode: 'netascii' }))).toEqual({ opcode: 'rrq', filename: 'a.bin', mode: 'netascii' });
  });

  it('reads an error packet as a reply', () => {
    const error = Buffer.concat([Buffer.from([0, 5, 0, 1]), Buffer.from('file not found\0')]);
    expect(tftpPayload.decode?.(error, context)).toEqual({ banner: 'TFTP error 1: file not found' });
  });
});

describe('DHCPINFORM', () => {
  it('is a BOOTREQUEST with our address as ciaddr and message type INFORM', () => {
    const message = decodeDhcpMessage(buildDhcpInform({ xid: 0xabcdef, clientAddress: '198.18.0.1', hardwareAddress: Buffer.from('020000000001', 'hex') }));
    expect(message).toEqual({ op: 1, xid: 0xabcdef, clientAddress: '198.18.0.1', messageType: 'DHCPINFORM', serverId: null, message: null });
    expect(decodeDhcpMessage(dhcpPayload.build(context)[0] ?? Buffer.alloc(0))?.clientAddress).toBe('198.18.0.1');
  });

  it('is not sent over IPv6', () => {
    expect(choosePayload({ port: 67, family: 6 }).service).toBe('generic');
  });
});

describe('RIP request', () => {
  it('asks for the whole table: one entry, address family 0, metric 16', () => {
    expect(decodeRipPacket(buildRipRequest())).toEqual({ command: 'request', version: 2, entries: [{ family: 0, address: '0.0.0.0', metric: 16 }] });
  });
});

describe('H.225.0 RAS GatekeeperRequest', () => {
  it('is choice 0 with our sequence number, the H.225.0 v4 protocol id and our RAS address', () => {
    const grq = buildGatekeeperRequest({ requestSeqNum: 0x1234, rasAddress: '198.18.0.1', rasPort: 40001 });
    expect(decodeRasMessage(grq)).toEqual({ type: 'gatekeeperRequest', requestSeqNum: 0x1234 });
    expect(grq.subarray(4, 11).toString('hex')).toBe('060008914a0004');
    expect([...grq.subarray(12, 16)]).toEqual([198, 18, 0, 1]);
    expect(grq.readUInt16BE(16)).toBe(40001);
    expect(grq.length).toBe(20);
    expect(h225RasPayload.decode?.(grq, context)).toBeNull();
  });

  it('reads GatekeeperConfirm and GatekeeperReject', () => {
    expect(h225RasPayload.decode?.(Buffer.from([0x04, 0x00, 0x12, 0x33]), context)).toEqual({ banner: 'H.225.0 RAS gatekeeperConfirm' });
    expect(decodeRasMessage(Buffer.from([0x08, 0x00, 0x00, 0x00]))?.type).toBe('gatekeeperReject');
  });
});

describe('L2TP SCCRQ', () => {
  it('is a control message with the SCCRQ AVPs and our tunnel id', () => {
    expect(decodeL2tpControl(buildSccrq({ assignedTunnelId: 4242, hostName: 'probe' }))).toEqual({
      tunnelId: 0, ns: 0, nr: 0, messageType: 'SCCRQ', hostName: 'probe', vendorName: null, assignedTunnelId: 4242,
    });
  });

  it('answers an SCCRP with a StopCCN for the tunnel the peer assigned', () => {
    const sccrp = buildSccrq({ assignedTunnelId: 77, hostName: 'lns' });
    sccrp.writeUInt16BE(4242, 4); // addressed to our tunnel
    sccrp.writeUInt16BE(2, 18); // message type AVP value: SCCRP
    expect(l2tpPayload.decode?.(sccrp, context)).toEqual({ banner: 'L2TP SCCRP (lns)' });
    const stop = decodeL2tpControl(l2tpPayload.farewell?.(sccrp, context) ?? Buffer.alloc(0));
    expect(stop).toMatchObject({ tunnelId: 77, messageType: 'StopCCN', assignedTunnelId: 4242, ns: 1, nr: 1 });
    expect(decodeL2tpControl(buildStopCcn({ peerTunnelId: 1, ourTunnelId: 2, ns: 1, nr: 1 }))?.messageType).toBe('StopCCN');
  });
});

describe('STUN, IAX2, MGCP, TIME, syslog, generic', () => {
  it('STUN Binding Request carries the magic cookie and our transaction id', () => {
    const id = Buffer.from('000102030405060708090a0b', 'hex');
    const message = decodeStunMessage(buildStunBindingRequest({ transactionId: id }));
    expect(message?.type).toBe(1);
    expect(message?.transactionId.equals(id)).toBe(true);
  });

  it('IAX2 POKE is a full IAX frame, subclass POKE', () => {
    expect(decodeIaxFullFrame(buildIaxPoke({ sourceCallNumber: 99 }))).toEqual({ sourceCallNumber: 99, destinationCallNumber: 0, frameType: 6, subclass: 'POKE' });
  });

  it('MGCP AUEP names the wildcard endpoint of the target', () => {
    expect(decodeMgcpLine(buildMgcpAuditEndpoint({ transactionId: 17, address: '198.18.0.2' }))).toEqual({ code: null, verb: 'AUEP', transactionId: 17, text: '*@198.18.0.2' });
    expect(decodeMgcpLine(Buffer.from('500 17 Endpoint unknown\r\n'))?.code).toBe(500);
  });

  it('TIME, syslog and the generic probe send one empty datagram', () => {
    for (const payload of [timePayload, syslogPayload, genericPayload]) expect(payload.build(context).map((d) => d.length)).toEqual([0]);
    expect(timePayload.decode?.(Buffer.alloc(4), context)).toEqual({ banner: 'TIME (RFC 868)' });
  });
});

describe('choosePayload', () => {
  it('follows the matrix row protocol text first', () => {
    expect(choosePayload({ port: 50000, protocol: 'UDP/SNMP' }).service).toBe('snmp');
    expect(choosePayload({ port: 1718, protocol: 'UDP/H.323 discovery' }).service).toBe('h225-ras');
    expect(choosePayload({ port: 123, protocol: 'NTP' }).service).toBe('ntp');
    expect(choosePayload({ port: 67, protocol: 'UDP/BOOTP Server' }).service).toBe('dhcp');
    expect(choosePayload({ port: 514, protocol: 'UDP+TCP/Syslog' }).service).toBe('syslog');
    expect(serviceForProtocol('UPD/Voicemail')).toBeNull();
  });

  it('falls back to the well-known service, then to the generic probe', () => {
    expect(choosePayload({ port: 5060, protocol: 'UPD/Proprietary' }).service).toBe('sip');
    expect(choosePayload({ port: 1701 }).service).toBe('l2tp');
    expect(choosePayload({ port: 50795, protocol: 'UDP/Voicenet' }).service).toBe('generic');
    expect(Object.keys(PAYLOADS)).toContain('iax2');
  });
});
