/**
 * What an emulated listener speaks: the service named by a row's protocol (for TCP the service
 * checks' own reading of it, src/checks/plan.ts), else the well-known port's.
 */
import { specForProtocol } from '../checks/plan.js';
import type { Expectation } from '../matrix/expectation.js';
import type { Transport } from '../model/port-state.js';

export type EmulatedUdpService = 'snmp' | 'sip' | 'ntp' | 'tftp' | 'dns' | 'generic';
/** A TCP service speaks what the row's protocol names (the service checks' own reading of it, src/checks/plan.ts). */
export type EmulatedTcpService = 'ssh' | 'http' | 'https' | 'tls' | 'sip' | 'sips' | 'ldap' | 'ldaps' | 'smtp' | 'smtps' | 'imap' | 'imaps' | 'pop3' | 'pop3s' | 'ftp' | 'generic';

/** The TLS services, and what each serves in plain text when drift takes its TLS away. */
export const PLAIN_OF_TLS: Partial<Record<EmulatedTcpService, EmulatedTcpService>> = {
  https: 'http',
  tls: 'generic',
  sips: 'sip',
  ldaps: 'ldap',
  smtps: 'smtp',
  imaps: 'imap',
  pop3s: 'pop3',
};

export function udpServiceFor(port: number, protocol: string): EmulatedUdpService {
  const text = protocol.toUpperCase();
  if (text.includes('SNMP') || port === 161) return 'snmp';
  if (text.includes('SIP') || port === 5060 || port === 5061) return 'sip';
  if (text.includes('NTP') || port === 123) return 'ntp';
  if (text.includes('TFTP') || port === 69) return 'tftp';
  if (text.includes('DNS') || port === 53) return 'dns';
  return 'generic';
}

export function tcpServiceFor(port: number, protocol: string): EmulatedTcpService {
  const spec = specForProtocol(protocol, port);
  if (spec) return spec.name === 'http(s)' ? 'https' : spec.name === 'probe' ? 'generic' : (spec.name as EmulatedTcpService);
  if (port === 22) return 'ssh';
  if (port === 80 || port === 8000 || port === 9080) return 'http';
  return 'generic';
}

export function serviceFor(transport: Transport, port: number, protocol: string): EmulatedUdpService | EmulatedTcpService {
  return transport === 'udp' ? udpServiceFor(port, protocol) : tcpServiceFor(port, protocol);
}

export type ServiceOf = (transport: Transport, port: number, expectation: Expectation) => EmulatedUdpService | EmulatedTcpService;

/**
 * The service a port speaks comes from the first row that names a checkable protocol, the row
 * the service checks read (src/checks/plan.ts), so a port two rows document is served as checked.
 */
export function serviceOfPorts(expectations: readonly Expectation[]): ServiceOf {
  const checkedProtocol = new Map<number, string>();
  for (const expectation of expectations) {
    if (expectation.dynamic || expectation.transport !== 'tcp' || !specForProtocol(expectation.protocol, expectation.start)) continue;
    for (let port = expectation.start; port <= expectation.end; port += 1) {
      if (!checkedProtocol.has(port) && specForProtocol(expectation.protocol, port)) checkedProtocol.set(port, expectation.protocol);
    }
  }
  return (transport, port, expectation) =>
    serviceFor(transport, port, (transport === 'tcp' ? checkedProtocol.get(port) : undefined) ?? expectation.protocol);
}
