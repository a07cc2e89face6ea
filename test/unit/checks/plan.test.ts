import { describe, expect, it } from 'vitest';
import { planChecks, specForProtocol } from '../../../src/checks/plan.js';
import type { Expectation } from '../../../src/matrix/expectation.js';
import type { HostScan } from '../../../src/model/port-state.js';

describe('specForProtocol', () => {
  // Protocol texts as the five documents write them (matrices/*.yaml), with the check each asks for.
  it.each([
    ['TCP/SSH', 22, 'ssh'],
    ['TCP/SSH/SFTP', 22, 'ssh'],
    ['TCP/HTTPS', 443, 'https'],
    ['TLS/HTTPS Web Sockets Server-Sent Events', 443, 'https'],
    ['HTTPS', 8443, 'https'],
    ['TCP/HTTP', 80, 'http'],
    ['HTTP - SOAP', 80, 'http'],
    ['HTTP/HTTPS', 8080, 'http(s)'],
    ['TCP/HTTP(S)', 8080, 'http(s)'],
    ['WSS/HTTP, HTTPS', 8080, 'http(s)'],
    ['UDP+TCP+TLS/SIP', 5060, 'sip'],
    ['UDP+TCP+TLS/SIP', 5061, 'sips'],
    ['TCP/SIP', 42004, 'sip'],
    ['TLS/SIPS', 5061, 'sips'],
    ['TCP/TLS', 50805, 'tls'],
    ['SSL/Voicemail', 50791, 'tls'],
    ['SOAP/TLS', 9000, 'tls'],
    ['TCP/LDAP', 389, 'ldap'],
    ['TCP/IMAP4', 143, 'imap'],
    ['IMAP4 – SSL', 993, 'imaps'],
    ['POP3 over TLS', 995, 'pop3s'],
    ['SMTP', 25, 'smtp'],
    ['TCP/FTP', 21, 'ftp'],
  ])('%s on %i -> %s', (protocol, port, name) => {
    expect(specForProtocol(protocol, port)?.name).toBe(name);
  });

  it.each(['TCP', 'TCP/Proprietary', 'TCP/JMX', 'UDP/TFTP', 'TCP/SNMP Trap', 'Own protocol based on TCP', 'NA'])('%s names nothing checkable', (protocol) => {
    expect(specForProtocol(protocol, 1234)).toBe(null);
  });
});

function row(id: string, port: number, protocol: string, transport: 'tcp' | 'udp' = 'tcp'): Expectation {
  return {
    transport, start: port, end: port, state: 'open', optional: false, dynamic: false, internal: false, protocol, component: 'core', description: '',
    ref: { matrix: 'm', document: 'd', rowId: id, table: 't', row: id },
  };
}

const host: HostScan = {
  target: 'pbx.test',
  address: '198.18.0.2',
  family: 4,
  name: 'pbx.test',
  plan: { tcp: '1-65535', udp: '5060' },
  observations: [
    { transport: 'tcp', port: 22, state: 'open', reason: 'syn-ack', rttMs: 1, attempts: 1 },
    { transport: 'tcp', port: 443, state: 'open', reason: 'syn-ack', rttMs: 1, attempts: 1 },
    { transport: 'tcp', port: 4097, state: 'filtered', reason: 'no-response', rttMs: null, attempts: 3 },
    { transport: 'tcp', port: 7000, state: 'open', reason: 'syn-ack', rttMs: 1, attempts: 1 },
    { transport: 'tcp', port: 31337, state: 'open', reason: 'syn-ack', rttMs: 1, attempts: 1 },
    { transport: 'udp', port: 5060, state: 'open', reason: 'udp-response', rttMs: 1, attempts: 1 },
  ],
  folded: [{ transport: 'tcp', state: 'closed', reason: 'conn-refused', count: 65530 }],
  complete: true,
};
const rows = [row('ssh', 22, 'TCP/SSH'), row('web', 443, 'TCP/HTTPS'), row('web-2', 443, 'HTTPS'), row('filtered', 4097, 'TCP/HTTPS'), row('prop', 7000, 'TCP/Proprietary'), row('sip', 5060, 'UDP/SIP', 'udp'), row('dark', 8443, 'TCP/HTTPS')];

describe('planChecks', () => {
  it('documented: one check per open TCP port whose row names a protocol, citing every row that agrees', () => {
    const planned = planChecks({ mode: 'documented', hosts: [host], expectations: rows });
    expect(planned.map((check) => [check.port, check.spec.name, check.basis, check.rowIds])).toEqual([
      [22, 'ssh', 'documented', ['ssh']],
      [443, 'https', 'documented', ['web', 'web-2']],
    ]);
    expect(planned[0]).toMatchObject({ host: '198.18.0.2', name: 'pbx.test', family: 4 });
  });

  it('all: every other open TCP port too, by well-known port or a probe; never a dark port or UDP', () => {
    const planned = planChecks({ mode: 'all', hosts: [host], expectations: rows });
    expect(planned.map((check) => [check.port, check.spec.name, check.basis])).toEqual([
      [22, 'ssh', 'documented'],
      [443, 'https', 'documented'],
      [7000, 'probe', 'probe'],
      [31337, 'probe', 'probe'],
    ]);
  });

  it('none plans nothing', () => {
    expect(planChecks({ mode: 'none', hosts: [host], expectations: rows })).toEqual([]);
  });
});
