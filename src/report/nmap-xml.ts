/**
 * nmap's XML output format (xmloutputversion 1.05), so tools that read `nmap -oX` (ndiff,
 * importers, dashboards) read a portmatrix scan too. Observations only: nmap's format has no
 * place for matrix findings. The one departure from nmap.dtd is scanner="portmatrix" (the DTD
 * allows only "nmap"): a file should not claim to come from a tool that did not write it.
 *
 * A banner goes into the service's extrainfo (what nmap -sV puts in its VERSION column), not
 * into a <script id="banner">: Debian's ndiff 7.93 raises a TypeError (without -v) on a port
 * whose columns are equal in both scans and whose script output differs. TCP ports carry the
 * IANA service name where there is one, as nmap's table lookup does.
 */
import type { ServiceCheck } from '../checks/model.js';
import { countPorts, parsePortSpec } from '../model/port-range.js';
import type { ScanResult } from '../result/model.js';
import type { FoldedPorts, HostScan, Observation, Reason, Transport } from '../model/port-state.js';
import { escapeXml } from '../util/untrusted-text.js';
import { TCP_SERVICE_NAMES } from './tcp-service-names.js';

const x = escapeXml;

/** Our reason words where nmap's differ (nmap drops the "icmp-" prefix). */
const NMAP_REASONS: Partial<Record<Reason, string>> = {
  'icmp-port-unreach': 'port-unreach',
  'icmp-net-unreach': 'net-unreach',
  'icmp-host-unreach': 'host-unreach',
  'icmp-proto-unreach': 'proto-unreach',
  'icmp-net-prohibited': 'net-prohibited',
  'icmp-host-prohibited': 'host-prohibited',
  'icmp-admin-prohibited': 'admin-prohibited',
};

function nmapReason(reason: Reason): string {
  return NMAP_REASONS[reason] ?? reason;
}

/** nmap's words for why a host is up or down; --assume-up is nmap's -Pn, "user-set". */
function nmapHostReason(host: HostScan): string {
  if (host.status.assumed) return 'user-set';
  const reasons: Record<HostScan['status']['reason'], string> = {
    'port-answered': 'port-response',
    'no-response': 'no-response',
    'host-unreach': 'host-unreach',
    'net-unreach': 'net-unreach',
    'no-route': 'no-route',
    'send-denied': 'send-denied',
  };
  return reasons[host.status.reason];
}

function unixSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

export function renderNmapXml(result: ScanResult): string {
  const start = unixSeconds(result.startedAt);
  const end = unixSeconds(result.finishedAt);
  const elapsedSeconds = Math.max(0, (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000).toFixed(2);
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE nmaprun>',
    `<nmaprun scanner="portmatrix" start="${x(start)}" startstr="${x(result.startedAt)}" version="${x(result.tool.version)}" xmloutputversion="1.05">`,
  ];
  // nmap's words: "syn" for a half-open scan, "connect" otherwise (results saved before SYN scans carry none).
  const tcpScanType = result.parameters.scanType === 'syn' ? 'syn' : 'connect';
  const plans: Record<Transport, Set<string>> = { tcp: new Set(), udp: new Set() };
  for (const host of result.hosts) {
    if (host.plan.tcp) plans.tcp.add(host.plan.tcp);
    if (host.plan.udp) plans.udp.add(host.plan.udp);
  }
  for (const transport of ['tcp', 'udp'] as const) {
    for (const spec of plans[transport]) {
      const parsed = parsePortSpec(spec);
      const count = parsed.ok ? countPorts(parsed.ranges) : 0;
      out.push(`<scaninfo type="${x(transport === 'tcp' ? tcpScanType : 'udp')}" protocol="${x(transport)}" numservices="${x(count)}" services="${x(spec)}"/>`);
    }
  }
  out.push('<verbose level="0"/>', '<debugging level="0"/>');
  // Lines are appended one by one: spreading a host's 131,070 port lines into push() overflows the stack.
  for (const host of result.hosts) renderHost(out, host, start, end, result.checks?.services ?? []);
  const summary = `portmatrix done at ${result.finishedAt}; ${result.hosts.length} IP address${result.hosts.length === 1 ? '' : 'es'} scanned in ${elapsedSeconds} seconds`;
  const up = result.hosts.filter((host) => host.status.state === 'up').length;
  const exit = result.complete ? 'exit="success"' : `exit="error" errormsg="${x(`incomplete: ${result.incompleteReason ?? 'stopped early'}`)}"`;
  out.push(
    `<runstats><finished time="${x(end)}" timestr="${x(result.finishedAt)}" summary="${x(summary)}" elapsed="${x(elapsedSeconds)}" ${exit}/><hosts up="${x(up)}" down="${x(result.hosts.length - up)}" total="${x(result.hosts.length)}"/>`,
    '</runstats>',
    '</nmaprun>',
  );
  return `${out.join('\n')}\n`;
}

function renderHost(lines: string[], host: HostScan, start: number, end: number, services: readonly ServiceCheck[]): void {
  lines.push(
    `<host starttime="${x(start)}" endtime="${x(end)}"><status state="${host.status.state === 'up' ? 'up' : 'down'}" reason="${x(nmapHostReason(host))}" reason_ttl="0"/>`,
    `<address addr="${x(host.address)}" addrtype="${x(`ipv${host.family}`)}"/>`,
    host.name === undefined ? '<hostnames>' : `<hostnames>\n<hostname name="${x(host.name)}" type="user"/>`,
    '</hostnames>',
    '<ports>',
  );
  // As nmap writes it: one extraports per state, its reasons (per transport) inside.
  const byState = new Map<string, FoldedPorts[]>();
  for (const folded of host.folded) {
    if (folded.count > 0) byState.set(folded.state, [...(byState.get(folded.state) ?? []), folded]);
  }
  for (const [state, entries] of byState) {
    lines.push(
      `<extraports state="${x(state)}" count="${x(entries.reduce((sum, entry) => sum + entry.count, 0))}">`,
      ...entries.map((entry) => `<extrareasons reason="${x(nmapReason(entry.reason))}" count="${x(entry.count)}" proto="${x(entry.transport)}"/>`),
      '</extraports>',
    );
  }
  for (const observation of host.observations) {
    const check = observation.transport === 'tcp' ? services.find((candidate) => candidate.host === host.address && candidate.port === observation.port) : undefined;
    lines.push(
      `<port protocol="${x(observation.transport)}" portid="${x(observation.port)}"><state state="${x(observation.state)}" reason="${x(nmapReason(observation.reason))}" reason_ttl="0"/>${check ? renderCheckedService(check) : renderService(observation)}</port>`,
    );
  }
  lines.push('</ports>', '</host>');
}

/** <service>: the probe's or the table's name (unknown when neither), the banner as extrainfo. */
function renderService(observation: Observation): string {
  const name = observation.service ?? (observation.transport === 'tcp' ? TCP_SERVICE_NAMES[observation.port] : undefined);
  if (name === undefined && observation.banner === undefined) return '';
  const extrainfo = observation.banner === undefined ? '' : ` extrainfo="${x(observation.banner)}"`;
  return `<service name="${x(name ?? 'unknown')}"${extrainfo} method="table" conf="3"/>`;
}

/**
 * What a service check saw, as nmap -sV and its ssl-cert script write it: the service name
 * (with tunnel="ssl" over TLS), and the certificate and TLS versions as script output.
 */
function renderCheckedService(check: ServiceCheck): string {
  const seen = check.protocolSeen ?? check.check;
  const overTls = check.tls !== undefined && seen !== 'tls';
  const name = overTls ? seen.replace(/^(https|sips|ldaps|smtps|imaps|pop3s|ftps)$/, (value) => (value === 'https' ? 'http' : value.slice(0, -1))) : seen;
  const product = check.http?.server ?? check.banner;
  const service = `<service name="${x(name)}"${overTls ? ' tunnel="ssl"' : ''}${product === undefined ? '' : ` product="${x(product)}"`} method="probed" conf="10"/>`;
  const certificate = check.tls?.certificate;
  const scripts = [
    certificate
      ? `<script id="ssl-cert" output="${x(`Subject: ${certificate.subject}; Issuer: ${certificate.issuer}; Subject Alternative Name: ${certificate.subjectAltNames.join(', ')}; Not valid before: ${certificate.notBefore}; Not valid after: ${certificate.notAfter}; SHA-256: ${certificate.fingerprint256}`)}"/>`
      : '',
    check.tls ? `<script id="ssl-enum-versions" output="${x(check.tls.versionsOffered.join(', '))}"/>` : '',
    check.outcome === 'answered' ? '' : `<script id="portmatrix-service-check" output="${x(`${check.outcome}: ${check.detail ?? ''}`)}"/>`,
  ];
  return `${service}${scripts.join('')}`;
}
