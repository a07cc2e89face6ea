/**
 * Which open port gets which service check. Pure.
 *
 * A matrix row's protocol text ("TCP/HTTPS", "TLS/SIPS", "UDP+TCP+TLS/SIP", "IMAP4 – SSL") names
 * what should answer; specForProtocol reads it with a few ordered rules. Rows that name nothing
 * checkable ("TCP", "TCP/Proprietary", "TCP/JMX") get no check under --checks documented: we do
 * not know what they speak, so nothing is sent to them. Under --checks all every other open TCP
 * port gets the check of its well-known port, or a probe (TLS or not, and any greeting).
 */
import type { Expectation } from '../matrix/expectation.js';
import type { HostScan } from '../model/port-state.js';
import type { ChecksMode, CheckBasis, CheckSpec } from './model.js';

const SPECS = {
  https: { name: 'https', app: 'http', tls: 'required' },
  http: { name: 'http', app: 'http', tls: 'none' },
  httpOrHttps: { name: 'http(s)', app: 'http', tls: 'either' },
  tls: { name: 'tls', app: null, tls: 'required' },
  ssh: { name: 'ssh', app: 'ssh', tls: 'none' },
  sip: { name: 'sip', app: 'sip', tls: 'none' },
  sips: { name: 'sips', app: 'sip', tls: 'required' },
  ldap: { name: 'ldap', app: 'ldap', tls: 'none' },
  ldaps: { name: 'ldaps', app: 'ldap', tls: 'required' },
  smtp: { name: 'smtp', app: 'smtp', tls: 'none' },
  smtps: { name: 'smtps', app: 'smtp', tls: 'required' },
  imap: { name: 'imap', app: 'imap', tls: 'none' },
  imaps: { name: 'imaps', app: 'imap', tls: 'required' },
  pop3: { name: 'pop3', app: 'pop3', tls: 'none' },
  pop3s: { name: 'pop3s', app: 'pop3', tls: 'required' },
  ftp: { name: 'ftp', app: 'ftp', tls: 'none' },
  probe: { name: 'probe', app: null, tls: 'either' },
} as const satisfies Record<string, CheckSpec>;

/** The standard SIP-over-TLS port: a row "UDP+TCP+TLS/SIP" on 5060-5061 is SIP on 5060 and SIPS on 5061. */
const SIPS_PORT = 5061;

/** Secure variant of a mail or directory protocol when the text says SSL or TLS. */
function secured(text: string, plain: CheckSpec, secure: CheckSpec): CheckSpec {
  return /SSL|TLS/.test(text) ? secure : plain;
}

/**
 * The check a documented protocol asks for on a TCP port, or null when the text names nothing
 * checkable. Rules run in order; the first that matches decides.
 */
export function specForProtocol(protocol: string, port: number): CheckSpec | null {
  const text = protocol.toUpperCase();
  const has = (word: RegExp): boolean => word.test(text);
  if (has(/\bSSH\b|\bSFTP\b/)) return SPECS.ssh;
  if (has(/\bSIPS\b/)) return SPECS.sips;
  if (has(/\bSIP\b/)) {
    // "UDP+TCP+TLS/SIP": both are documented; the port says which one listens there.
    if (has(/\bTLS\b/) && has(/\bTCP\b|\bUDP\b/)) return port === SIPS_PORT ? SPECS.sips : SPECS.sip;
    return has(/\bTLS\b/) ? SPECS.sips : SPECS.sip;
  }
  if (has(/\bLDAPS\b/)) return SPECS.ldaps;
  if (has(/\bLDAP\b/)) return secured(text, SPECS.ldap, SPECS.ldaps);
  if (has(/\bIMAPS\b/)) return SPECS.imaps;
  if (has(/\bIMAP4?\b/)) return secured(text, SPECS.imap, SPECS.imaps);
  if (has(/\bPOP3S\b/)) return SPECS.pop3s;
  if (has(/\bPOP3\b/)) return secured(text, SPECS.pop3, SPECS.pop3s);
  if (has(/\bSMTPS\b/)) return SPECS.smtps;
  if (has(/\bSMTP\b/)) return secured(text, SPECS.smtp, SPECS.smtps);
  if (has(/(^|[^ST])FTP\b/)) return SPECS.ftp;
  const https = has(/\bHTTPS\b|\bWSS\b|HTTP\(S\)/);
  const http = has(/\bHTTP\b|\bWS\b/);
  if (https && (http || has(/HTTP\(S\)/))) return SPECS.httpOrHttps;
  if (https) return SPECS.https;
  if (http) return has(/\bTLS\b|\bSSL\b/) ? SPECS.https : SPECS.http;
  if (has(/\bTLS\b|\bSSL\b/)) return SPECS.tls;
  return null;
}

/** --checks all: the service a well-known port usually carries; a probe elsewhere. */
const WELL_KNOWN: Readonly<Record<number, CheckSpec>> = {
  21: SPECS.ftp,
  22: SPECS.ssh,
  25: SPECS.smtp,
  80: SPECS.http,
  110: SPECS.pop3,
  143: SPECS.imap,
  389: SPECS.ldap,
  443: SPECS.https,
  465: SPECS.smtps,
  587: SPECS.smtp,
  636: SPECS.ldaps,
  993: SPECS.imaps,
  995: SPECS.pop3s,
  5060: SPECS.sip,
  5061: SPECS.sips,
  8080: SPECS.http,
  8443: SPECS.https,
};

export interface PlannedCheck {
  /** The host's address (its identity). */
  host: string;
  name?: string;
  family: 4 | 6;
  port: number;
  spec: CheckSpec;
  basis: CheckBasis;
  rowIds: string[];
  documentedProtocol?: string;
}

export interface PlanChecksOptions {
  mode: ChecksMode;
  hosts: readonly HostScan[];
  expectations: readonly Expectation[];
}

/** One check per open TCP port that the mode concerns; nothing for any other port. */
export function planChecks(options: PlanChecksOptions): PlannedCheck[] {
  if (options.mode === 'none') return [];
  const tcpRows = options.expectations.filter((expectation) => expectation.transport === 'tcp' && !expectation.dynamic);
  const planned: PlannedCheck[] = [];
  for (const host of options.hosts) {
    for (const observation of host.observations) {
      if (observation.transport !== 'tcp' || observation.state !== 'open') continue;
      const port = observation.port;
      const where = { host: host.address, ...(host.name === undefined ? {} : { name: host.name }), family: host.family, port };
      const rows = tcpRows
        .filter((row) => port >= row.start && port <= row.end)
        .map((row) => ({ row, spec: specForProtocol(row.protocol, port) }))
        .filter((entry): entry is { row: Expectation; spec: CheckSpec } => entry.spec !== null);
      const first = rows[0];
      if (first) {
        // Rows that agree on the check are all cited; a row asking for another check is left to the first.
        const agreeing = rows.filter((entry) => entry.spec.name === first.spec.name).map((entry) => entry.row.ref.rowId);
        planned.push({ ...where, spec: first.spec, basis: 'documented', rowIds: [...new Set(agreeing)], documentedProtocol: first.row.protocol });
        continue;
      }
      // A host that answers on every port would get 65535 checks; a port gone on the second look, one that cannot answer.
      if (options.mode !== 'all' || host.answersEverything || observation.flapping) continue;
      const known = WELL_KNOWN[port];
      planned.push({ ...where, spec: known ?? SPECS.probe, basis: known ? 'well-known-port' : 'probe', rowIds: [] });
    }
  }
  return planned;
}
