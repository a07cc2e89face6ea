/**
 * Reading an nmap XML scan (`nmap -sT/-sS/-sU ... -oX file`) as observations, so an existing
 * nmap run can be judged against a matrix with the same findings as a live scan. Pure: the
 * caller reads the file.
 *
 * - Every planned port gets a state: listed ports as listed, the rest from their <extraports>
 *   (nmap >= 7.92 names the ports of each <extrareasons>; an older file whose one transport
 *   folds two states cannot be read port by port and is refused).
 * - The plan is the <scaninfo> services per protocol; a host's ports outside it are "not scanned".
 * - Host status is respected: a host nmap saw down (or skipped) has no port verdicts at all,
 *   so it can never produce "missing listener" findings.
 * - Reasons are nmap's words mapped onto ours (port-unreach -> icmp-port-unreach, resets ->
 *   reset); an unknown reason falls back on the state's usual reason.
 * - Text in the file (service names, script output, host names) is untrusted like any banner.
 */
import { XMLParser } from 'fast-xml-parser';
import { PortmatrixError } from '../errors.js';
import { formatPortSpec, normalizeRanges, parsePortSpec, rangesContain, type PortRange } from '../model/port-range.js';
import { foldObservations } from './fold.js';
import { decideHostStatus } from './host-status.js';
import type { HostScan, Observation, PortState, Reason, Transport } from '../model/port-state.js';
import { PORT_STATES, TRANSPORTS } from '../model/port-state.js';

export interface NmapScan {
  scanner: { version: string; args: string };
  /** ISO times from the file (start, and the run's finish when recorded). */
  startedAt: string;
  finishedAt: string;
  /** nmap scan types per transport ("connect", "syn", "udp"). */
  scanTypes: Partial<Record<Transport, string>>;
  /** Hosts nmap saw up, with a verdict for every planned port. */
  hosts: HostScan[];
  /** Hosts nmap reported down: no port verdicts, never judged. */
  down: { address: string; reason: string }[];
  /** How many hosts the run counted down (nmap lists them one by one only with -v). */
  downCount: number;
  /** False when nmap did not finish (runstats exit="error" or missing). */
  complete: boolean;
}

const NMAP_TO_REASON: Record<string, Reason> = {
  'syn-ack': 'syn-ack',
  'conn-refused': 'conn-refused',
  reset: 'reset',
  'no-response': 'no-response',
  'udp-response': 'udp-response',
  'port-unreach': 'icmp-port-unreach',
  'net-unreach': 'icmp-net-unreach',
  'host-unreach': 'icmp-host-unreach',
  'proto-unreach': 'icmp-proto-unreach',
  'net-prohibited': 'icmp-net-prohibited',
  'host-prohibited': 'icmp-host-prohibited',
  'admin-prohibited': 'icmp-admin-prohibited',
};

const FALLBACK_REASON: Record<Transport, Record<PortState, Reason>> = {
  tcp: { open: 'syn-ack', closed: 'conn-refused', filtered: 'no-response', 'open|filtered': 'no-response' },
  udp: { open: 'udp-response', closed: 'icmp-port-unreach', filtered: 'no-response', 'open|filtered': 'no-response' },
};

type Element = Record<string, unknown>;

const ARRAY_ELEMENTS = new Set(['scaninfo', 'host', 'address', 'hostname', 'port', 'extraports', 'extrareasons', 'script']);

function parseXml(text: string, file: string): Element {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    processEntities: true,
    isArray: (name) => ARRAY_ELEMENTS.has(name),
  });
  try {
    return parser.parse(text, true) as Element;
  } catch (error) {
    // fast-xml-parser ends its message with ":line:col".
    const match = /^(.*?)\.?:(\d+):(\d+)$/s.exec((error as Error).message);
    const where = match ? `:${match[2]}:${match[3]}` : '';
    throw new PortmatrixError('E_RESULT', `${file}${where}: not an nmap XML file: ${match?.[1] ?? (error as Error).message}`, {
      hint: 'pass the file nmap wrote with -oX',
      cause: error,
    });
  }
}

function list(value: unknown): Element[] {
  return Array.isArray(value) ? (value as Element[]) : [];
}

function text(element: Element | undefined, name: string): string | undefined {
  const value = element?.[name];
  return typeof value === 'string' ? value : undefined;
}

function isoFromUnix(seconds: string | undefined): string | undefined {
  const value = Number(seconds);
  return seconds !== undefined && Number.isFinite(value) && value > 0 ? new Date(value * 1000).toISOString() : undefined;
}

function readState(value: string | undefined, where: string): PortState {
  if (value !== undefined && (PORT_STATES as readonly string[]).includes(value)) return value as PortState;
  // nmap's two idle-scan states: unfiltered (ACK scans) and closed|filtered cannot be judged.
  throw new PortmatrixError('E_RESULT', `${where}: port state ${JSON.stringify(value)} is not one portmatrix judges (open, closed, filtered, open|filtered)`, {
    hint: 'give a connect (-sT), SYN (-sS) or UDP (-sU) scan',
  });
}

/** nmap's reason words, singular (extrareasons says "resets", "no-responses", "port-unreaches"). */
function readReason(value: string | undefined, transport: Transport, state: PortState): Reason {
  if (value !== undefined) {
    const singular = value.replace(/(unreach)es$/, '$1').replace(/s$/, '');
    const reason = NMAP_TO_REASON[value] ?? NMAP_TO_REASON[singular];
    if (reason) return reason;
  }
  return FALLBACK_REASON[transport][state];
}

function readTransport(value: string | undefined): Transport | undefined {
  return (TRANSPORTS as readonly string[]).includes(value ?? '') ? (value as Transport) : undefined;
}

export function parseNmapXml(xml: string, file: string): NmapScan {
  const root = parseXml(xml, file).nmaprun as Element | undefined;
  if (!root || typeof root !== 'object') {
    throw new PortmatrixError('E_RESULT', `${file}: not an nmap XML file (no <nmaprun>)`, { hint: 'pass the file nmap wrote with -oX' });
  }
  const plans: Record<Transport, PortRange[]> = { tcp: [], udp: [] };
  const scanTypes: NmapScan['scanTypes'] = {};
  for (const info of list(root.scaninfo)) {
    const transport = readTransport(text(info, 'protocol'));
    if (!transport) continue;
    const services = text(info, 'services') ?? '';
    const parsed = parsePortSpec(services);
    if (!parsed.ok) throw new PortmatrixError('E_RESULT', `${file}: <scaninfo protocol="${transport}" services="${services}">: ${parsed.error}`);
    plans[transport] = normalizeRanges([...plans[transport], ...parsed.ranges]);
    scanTypes[transport] = text(info, 'type') ?? 'unknown';
  }
  const startedAt = isoFromUnix(text(root, 'start')) ?? new Date(0).toISOString();
  const finished = (root.runstats as Element | undefined)?.finished as Element | undefined;
  const hosts: HostScan[] = [];
  const down: NmapScan['down'] = [];
  for (const [index, host] of list(root.host).entries()) {
    const addresses = list(host.address).filter((address) => text(address, 'addrtype') === 'ipv4' || text(address, 'addrtype') === 'ipv6');
    const address = addresses[0];
    const addr = text(address, 'addr');
    if (!addr) throw new PortmatrixError('E_RESULT', `${file}: host ${index + 1} has no IPv4 or IPv6 address`);
    const status = host.status as Element | undefined;
    if (text(status, 'state') !== 'up') {
      down.push({ address: addr, reason: text(status, 'reason') ?? 'unknown' });
      continue;
    }
    const userName = list((host.hostnames as Element | undefined)?.hostname).find((name) => text(name, 'type') === 'user');
    const ports = readPorts(host.ports as Element | undefined, plans, `${file}: host ${addr}`);
    hosts.push({
      target: text(userName, 'name') ?? addr,
      address: addr,
      family: text(address, 'addrtype') === 'ipv6' ? 6 : 4,
      plan: { tcp: formatPortSpec(plans.tcp), udp: formatPortSpec(plans.udp) },
      ...ports,
      complete: true,
      // nmap's host discovery saw it answer; "user-set" is -Pn, our --assume-up: then the ports decide.
      status: text(status, 'reason') === 'user-set' ? decideHostStatus(ports, { assumeUp: true }) : { state: 'up', reason: 'port-answered' },
    });
  }
  return {
    scanner: { version: text(root, 'version') ?? 'unknown', args: text(root, 'args') ?? '' },
    startedAt,
    finishedAt: isoFromUnix(text(finished, 'time')) ?? startedAt,
    scanTypes,
    hosts,
    down,
    downCount: Math.max(down.length, Number(text((root.runstats as Element | undefined)?.hosts as Element | undefined, 'down') ?? 0) || 0),
    complete: text(finished, 'exit') === 'success',
  };
}

/** Every planned port's observation: listed ports, then each <extraports> expanded. */
function readPorts(ports: Element | undefined, plans: Record<Transport, PortRange[]>, where: string): Pick<HostScan, 'observations' | 'folded'> {
  const observations = new Map<string, Observation>();
  for (const port of list(ports?.port)) {
    const transport = readTransport(text(port, 'protocol'));
    const number = Number(text(port, 'portid'));
    if (!transport || !Number.isInteger(number) || number < 1 || number > 65535) continue;
    const stateElement = port.state as Element | undefined;
    const state = readState(text(stateElement, 'state'), `${where} ${transport}/${number}`);
    const serviceElement = port.service as Element | undefined;
    const service = text(serviceElement, 'name');
    // What nmap -sV read from the service (and where our own nmap XML keeps a banner): untrusted text.
    const banner = ['product', 'version', 'extrainfo'].map((name) => text(serviceElement, name)).filter((part) => part !== undefined).join(' ');
    observations.set(`${transport}/${number}`, {
      transport,
      port: number,
      state,
      reason: readReason(text(stateElement, 'reason'), transport, state),
      rttMs: null,
      attempts: 1,
      ...(service && service !== 'unknown' ? { service } : {}),
      ...(banner === '' ? {} : { banner }),
    });
  }
  for (const transport of TRANSPORTS) {
    const unlisted = (port: number): boolean => !observations.has(`${transport}/${port}`);
    const groups = list(ports?.extraports).flatMap((extra): { state: PortState; reason: Element | undefined }[] => {
      const state = readState(text(extra, 'state'), `${where} <extraports>`);
      const reasons = list(extra.extrareasons).filter((reason) => (readTransport(text(reason, 'proto')) ?? transport) === transport);
      return reasons.length > 0 ? reasons.map((reason) => ({ state, reason })) : [{ state, reason: undefined }];
    });
    if (plans[transport].length === 0 || groups.length === 0) continue;
    const named = groups.every((group) => text(group.reason, 'ports') !== undefined);
    if (!named && new Set(groups.map((group) => group.state)).size > 1) {
      throw new PortmatrixError('E_RESULT', `${where}: <extraports> fold several ${transport} states without naming their ports (nmap before 7.92)`, {
        hint: 'rerun the scan with nmap 7.92 or newer, or with --reason -d so every port is listed',
      });
    }
    for (const group of groups) {
      const spec = text(group.reason, 'ports');
      const parsed = spec === undefined ? undefined : parsePortSpec(spec);
      if (parsed && !parsed.ok) throw new PortmatrixError('E_RESULT', `${where}: <extrareasons ports="${spec}">: ${parsed.error}`);
      const ranges = parsed?.ok ? parsed.ranges : plans[transport];
      const reason = readReason(text(group.reason, 'reason'), transport, group.state);
      for (const range of ranges) {
        for (let port = range.start; port <= range.end; port++) {
          if (unlisted(port) && rangesContain(plans[transport], port)) {
            observations.set(`${transport}/${port}`, { transport, port, state: group.state, reason, rttMs: null, attempts: 1 });
          }
        }
      }
    }
  }
  const sorted = [...observations.values()].sort((a, b) => (a.transport === b.transport ? a.port - b.port : a.transport < b.transport ? -1 : 1));
  return foldObservations(sorted);
}
