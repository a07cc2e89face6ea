/**
 * Service checks on loopback against small servers of our own that misbehave the way a hostile
 * or broken device can: escape sequences, bidi overrides and a 5000-character identification
 * string, a Server header with C1 controls; the greeting protocols (SMTP, IMAP, POP3), an LDAP
 * rootDSE answer (BER written out in the test, apart from the probe's encoder), plus
 * --checks all's probe of a port no row documents. What was read is stored as one line without
 * controls, at most 200 characters, and the terminal report carries no escape character.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkServices } from '../../src/checks/run.js';
import type { ChecksSection } from '../../src/checks/model.js';
import type { Expectation } from '../../src/matrix/expectation.js';
import { renderTable } from '../../src/report/table.js';
import type { ScanResult } from '../../src/result/model.js';
import type { HostScan } from '../../src/scan/model.js';

const servers: net.Server[] = [];

/** A TCP server on 127.0.0.1 that writes `greeting` on connect and `reply` to the first data. */
async function serve(greeting: string | Buffer, reply?: string | Buffer): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    if (greeting.length > 0) socket.write(greeting);
    socket.once('data', () => (reply === undefined ? socket.end() : socket.end(reply)));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** BER written out here, apart from the probe's own encoder: a rootDSE entry and a successful SearchResultDone. */
function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag, content.length]), content]);
}
const octets = (text: string): Buffer => tlv(0x04, Buffer.from(text));
const attribute = (type: string, values: string[]): Buffer => tlv(0x30, Buffer.concat([octets(type), tlv(0x31, Buffer.concat(values.map(octets)))]));
const ROOT_DSE_REPLY = Buffer.concat([
  tlv(0x30, Buffer.concat([Buffer.from([0x02, 0x01, 0x01]), tlv(0x64, Buffer.concat([octets(''), tlv(0x30, Buffer.concat([attribute('supportedLDAPVersion', ['3']), attribute('vendorName', ['Test LDAP']), attribute('namingContexts', ['dc=example,dc=test'])]))]))])),
  tlv(0x30, Buffer.concat([Buffer.from([0x02, 0x01, 0x01]), tlv(0x65, Buffer.from([0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]))])),
]);

function row(id: string, port: number, protocol: string): Expectation {
  return {
    transport: 'tcp', start: port, end: port, state: 'open', optional: false, dynamic: false, internal: false, protocol, component: 'core', description: '',
    ref: { matrix: 'm', document: 'd', rowId: id, table: 'T', row: id },
  };
}

const ports: Record<string, number> = {};
let section: ChecksSection;
let host: HostScan;

beforeAll(async () => {
  ports.ssh = await serve(`SSH-2.0-Evil\u001b]0;owned\u0007\u202eexe.txt${'A'.repeat(5000)}\r\n`);
  ports.http = await serve('', Buffer.from('HTTP/1.1 200 OK\r\nServer: evil\u00e2\u0080\u00ae-\u009b31m\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 'latin1'));
  ports.smtp = await serve('220 mail.example.test ESMTP\r\n');
  ports.imap = await serve('* OK [CAPABILITY IMAP4rev1] ready\r\n');
  ports.pop3 = await serve('+OK POP3 ready\r\n');
  ports.unknown = await serve('HELLO from a proprietary service\r\n');
  ports.ldap = await serve('', ROOT_DSE_REPLY);
  const expectations = [row('ssh', ports.ssh, 'TCP/SSH'), row('web', ports.http, 'TCP/HTTP'), row('mail', ports.smtp, 'SMTP'), row('imap', ports.imap, 'TCP/IMAP4'), row('pop', ports.pop3, 'POP3'), row('dir', ports.ldap, 'TCP/LDAP')];
  host = {
    target: '127.0.0.1', address: '127.0.0.1', family: 4, plan: { tcp: Object.values(ports).join(','), udp: '' }, folded: [], complete: true, status: { state: 'up', reason: 'port-answered' },
    observations: Object.values(ports).sort((a, b) => a - b).map((port) => ({ transport: 'tcp' as const, port, state: 'open' as const, reason: 'syn-ack' as const, rttMs: 0.1, attempts: 1 })),
  };
  section = await checkServices({ mode: 'all', hosts: [host], expectations, limits: { concurrency: 4, timeoutMs: 2000 } });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

const at = (port: number | undefined) => section.services.find((service) => service.port === port);

describe('service checks on loopback', () => {
  it('store what hostile services send as one capped line without control characters', () => {
    const ssh = at(ports.ssh);
    expect(ssh).toMatchObject({ outcome: 'answered', protocolSeen: 'ssh' });
    expect(ssh?.banner?.startsWith('SSH-2.0-Evil')).toBe(true);
    expect([...(ssh?.banner ?? '')].length).toBeLessThanOrEqual(200);
    const http = at(ports.http);
    expect(http).toMatchObject({ outcome: 'answered', http: { status: 200 } });
    for (const text of [ssh?.banner, http?.http?.server]) expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    const table = renderTable({
      schema: 'portmatrix/result', schemaVersion: 1, tool: { name: 'portmatrix', version: 't' }, startedAt: '', finishedAt: '', complete: true,
      vantage: { hostname: 'h', sourceAddresses: [] }, parameters: {}, hosts: [host], checks: section,
    } as ScanResult);
    expect(table).toContain('Service checks (7, --checks all');
    expect(table).not.toMatch(/[\u001b\u009b\u0007]/);
  });

  it('read SMTP, IMAP and POP3 greetings and an LDAP rootDSE, and --checks all probes an undocumented port', () => {
    expect(at(ports.smtp)).toMatchObject({ check: 'smtp', outcome: 'answered', banner: '220 mail.example.test ESMTP', rowIds: ['mail'] });
    expect(at(ports.imap)).toMatchObject({ check: 'imap', outcome: 'answered', banner: '* OK [CAPABILITY IMAP4rev1] ready' });
    expect(at(ports.pop3)).toMatchObject({ check: 'pop3', outcome: 'answered', banner: '+OK POP3 ready' });
    expect(at(ports.ldap)).toMatchObject({ check: 'ldap', outcome: 'answered', protocolSeen: 'ldap', banner: 'LDAPv3; Test LDAP; namingContexts dc=example,dc=test' });
    expect(at(ports.unknown)).toMatchObject({ check: 'probe', basis: 'probe', outcome: 'answered', banner: 'HELLO from a proprietary service', rowIds: [] });
  });
});
