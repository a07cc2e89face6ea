/**
 * What an emulated target runs, and what a scanner must observe on it, computed together.
 *
 * planTarget() turns the selected expectations (plus drift) into listeners and firewall rules,
 * and derives the truth (every configured port's expected observed state) from exactly those
 * listeners and rules, so the target and its truth cannot disagree. Pure: no I/O.
 *
 * How documented states become a target:
 * - open (not intra-device): a listener on the scanned address -> open.
 * - closed, n/a, or a condition that is not declared to hold: nothing -> closed (RST / ICMP port
 *   unreachable); "open only for localhost" undeclared: a listener on loopback only -> closed.
 * - filtered: a firewall DROP -> tcp filtered, udp open|filtered (a drop answers nothing).
 * - intra-device (internal) open ports: the listener exists but only on loopback, as on the
 *   real product -> closed from outside; drift can expose it.
 * - dynamic media ranges: nothing listens at rest -> closed.
 * - hardened: every port that no row documents is dropped -> tcp filtered, udp open|filtered.
 * Drift on top: extra listeners (undocumented ports; inside a dynamic range, a dynamic port
 * open), missing ones, toggled optional ports, exposed intra-device ports, silent UDP listeners
 * (bound but answering nothing -> open|filtered, no ICMP either) and documented-filtered ports
 * with a listener and no drop (reachable -> open; no firewall needed).
 * Without a firewall (loopback mode, not root) filtered ports and hardening cannot be emulated:
 * they stay closed and are listed in `notEmulated`.
 */
import { specForProtocol } from '../checks/plan.js';
import { conditionHolds } from '../matrix/conditions.js';
import type { Expectation } from '../matrix/expectation.js';
import { normalizeRanges, type PortRange } from '../model/port-range.js';
import type { PortState, Transport } from '../model/port-state.js';
import type { DriftSpec, PortRef } from './drift.js';

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

export interface PlannedListener {
  transport: Transport;
  port: number;
  /** Where the listener binds: the scanned address, or loopback only (intra-device ports). */
  scope: 'external' | 'loopback-only';
  service: EmulatedUdpService | EmulatedTcpService;
  /** UDP only: bound, so the kernel sends no ICMP port unreachable, but never replies. */
  silent?: true;
  /** TLS services only: the one TLS version offered (drift oldtls: TLS 1.0 alone). */
  tlsVersion?: 'TLSv1';
}

export interface Deviation {
  kind:
    | 'extra-listener'
    | 'dynamic-open'
    | 'missing-listener'
    | 'optional-toggled'
    | 'internal-exposed'
    | 'listener-silent'
    | 'filtered-reachable'
    | 'service-plain'
    | 'service-old-tls';
  transport: Transport;
  port: number;
  /** What the matrix documents for the port ('undocumented' for an extra listener, 'dynamic range a-b' inside one). */
  documented: string;
  /** What the emulated target shows instead. */
  emulated: PortState;
}

export interface PortTruth {
  tcp: Record<number, PortState>;
  udp: Record<number, PortState>;
  /** State of every port not listed above and not in closedRanges. */
  otherPorts: { tcp: PortState; udp: PortState };
  /** Hardened targets: unlisted ports in these documented ranges pass the firewall, so they are closed. */
  closedRanges: { tcp: PortRange[]; udp: PortRange[] };
}

export interface TargetPlan {
  listeners: PlannedListener[];
  /** Ports whose packets the firewall drops. */
  drop: { tcp: PortRange[]; udp: PortRange[] };
  /** Hardened: everything but these ports is dropped. Null when not hardened. */
  allowOnly: { tcp: PortRange[]; udp: PortRange[] } | null;
  truth: PortTruth;
  deviations: Deviation[];
  /** Documented behaviour the target cannot show, with the reason. */
  notEmulated: { transport: Transport; port: number; documented: string; reason: string }[];
}

export interface PlanTargetOptions {
  expectations: readonly Expectation[];
  drift?: DriftSpec;
  hardened?: boolean;
  /** False when no firewall can be applied (loopback mode without root). */
  firewall: boolean;
  /** Conditions that hold on the target (kinds, row ids, "*"), as in a policy: their listeners run. */
  conditions?: readonly string[];
}

function documentedText(expectation: Expectation): string {
  const state = expectation.state;
  return typeof state === 'string' ? state : `conditional: ${state.conditional}`;
}

/** The state a row asks for at rest: a condition not declared to hold means nothing listens. */
function restingState(expectation: Expectation, declared: ReadonlySet<string>): 'open' | 'closed' | 'filtered' {
  const state = expectation.state;
  const held = conditionHolds(expectation, declared);
  if (typeof state !== 'string') return held && state.whenMet === 'open' ? 'open' : 'closed';
  // Open only for localhost: the service runs, bound to loopback (see loopbackOnly).
  if (expectation.condition && !held && expectation.condition.kind !== 'localhost-only') return 'closed';
  return state === 'open' || state === 'filtered' ? state : 'closed';
}

/** Intra-device ports, and "open only for localhost" ones unless declared: listening on loopback only. */
function loopbackOnly(expectation: Expectation, declared: ReadonlySet<string>): boolean {
  return expectation.internal || (expectation.condition?.kind === 'localhost-only' && !conditionHolds(expectation, declared));
}

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

function key(transport: Transport, port: number): string {
  return `${transport}/${port}`;
}

function toRanges(ports: Iterable<number>): PortRange[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const ranges: PortRange[] = [];
  for (const port of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && last.end === port - 1) last.end = port;
    else ranges.push({ start: port, end: port });
  }
  return ranges;
}

function refKey(ref: PortRef): string {
  return key(ref.transport, ref.port);
}

export function planTarget(options: PlanTargetOptions): TargetPlan {
  const drift = options.drift ?? {};
  const hardened = options.hardened ?? false;
  const declared: ReadonlySet<string> = new Set(options.conditions ?? []);
  // One entry per (transport, port); a port documented by several rows takes the most open state.
  const documented = new Map<string, { transport: Transport; port: number; expectation: Expectation }>();
  const documentedRanges: Record<Transport, PortRange[]> = { tcp: [], udp: [] };
  const dynamicRanges: Record<Transport, PortRange[]> = { tcp: [], udp: [] };
  const rank = { open: 2, filtered: 1, closed: 0 } as const;
  for (const expectation of options.expectations) {
    documentedRanges[expectation.transport].push({ start: expectation.start, end: expectation.end });
    if (expectation.dynamic) {
      dynamicRanges[expectation.transport].push({ start: expectation.start, end: expectation.end });
      continue;
    }
    for (let port = expectation.start; port <= expectation.end; port += 1) {
      const k = key(expectation.transport, port);
      const existing = documented.get(k);
      if (!existing || rank[restingState(expectation, declared)] > rank[restingState(existing.expectation, declared)]) {
        documented.set(k, { transport: expectation.transport, port, expectation });
      }
    }
  }

  // The service a port speaks comes from the first row that names a checkable protocol, the row
  // the service checks read (src/checks/plan.ts), so a port two rows document is served as checked.
  const checkedProtocol = new Map<string, string>();
  for (const expectation of options.expectations) {
    if (expectation.dynamic || expectation.transport !== 'tcp' || !specForProtocol(expectation.protocol, expectation.start)) continue;
    for (let port = expectation.start; port <= expectation.end; port += 1) {
      const k = key('tcp', port);
      if (!checkedProtocol.has(k) && specForProtocol(expectation.protocol, port)) checkedProtocol.set(k, expectation.protocol);
    }
  }
  const protocolOf = (transport: Transport, port: number, expectation: Expectation): string => checkedProtocol.get(key(transport, port)) ?? expectation.protocol;

  const missing = new Set((drift.missingListeners ?? []).map(refKey));
  const toggled = new Set((drift.toggledOptional ?? []).map(refKey));
  const exposed = new Set((drift.exposedInternal ?? []).map(refKey));
  const silent = new Set((drift.silentListeners ?? []).map(refKey));
  const reachable = new Set((drift.reachableFiltered ?? []).map(refKey));
  const plain = new Set((drift.plainServices ?? []).map(refKey));
  const oldTls = new Set((drift.oldTlsServices ?? []).map(refKey));
  const listeners: PlannedListener[] = [];
  const drop: Record<Transport, number[]> = { tcp: [], udp: [] };
  const truth: PortTruth = {
    tcp: {},
    udp: {},
    otherPorts: hardened && options.firewall ? { tcp: 'filtered', udp: 'open|filtered' } : { tcp: 'closed', udp: 'closed' },
    closedRanges: { tcp: [], udp: [] },
  };
  const deviations: Deviation[] = [];
  const notEmulated: TargetPlan['notEmulated'] = [];
  const dropped: Record<Transport, PortState> = { tcp: 'filtered', udp: 'open|filtered' };
  const serviceFor = (transport: Transport, port: number, protocol: string): EmulatedUdpService | EmulatedTcpService =>
    transport === 'udp' ? udpServiceFor(port, protocol) : tcpServiceFor(port, protocol);

  for (const [k, { transport, port, expectation }] of documented) {
    let state = restingState(expectation, declared);
    const text = documentedText(expectation);
    if (missing.has(k)) {
      if (state !== 'open') throw new Error(`drift: ${k} is documented ${text}, so it cannot be a missing listener`);
      state = 'closed';
      deviations.push({ kind: 'missing-listener', transport, port, documented: text, emulated: 'closed' });
    }
    if (toggled.has(k)) {
      if (!expectation.optional) throw new Error(`drift: ${k} is not optional, so it cannot be toggled`);
      state = state === 'open' ? 'closed' : 'open';
      deviations.push({ kind: 'optional-toggled', transport, port, documented: text, emulated: state });
    }
    if (reachable.has(k)) {
      if (state !== 'filtered') throw new Error(`drift: ${k} is documented ${text}, so it cannot be a reachable filtered port`);
      state = 'open';
      deviations.push({ kind: 'filtered-reachable', transport, port, documented: text, emulated: 'open' });
    }
    if (silent.has(k)) {
      if (transport !== 'udp') throw new Error(`drift: ${k}: only a UDP listener can be silent (a TCP handshake is the kernel's)`);
      if (state !== 'open' || expectation.internal) throw new Error(`drift: ${k} is not a documented-open UDP listener reachable from outside, so it cannot be silent`);
      listeners.push({ transport, port, scope: 'external', service: serviceFor(transport, port, protocolOf(transport, port, expectation)), silent: true });
      truth[transport][port] = 'open|filtered';
      deviations.push({ kind: 'listener-silent', transport, port, documented: text, emulated: 'open|filtered' });
      continue;
    }
    if (loopbackOnly(expectation, declared)) {
      if (exposed.has(k)) {
        state = 'open';
        deviations.push({ kind: 'internal-exposed', transport, port, documented: `intra-device ${text}`, emulated: 'open' });
      } else {
        // Intra-device: the service runs, but on loopback only, so it is dark from outside.
        if (state === 'open') listeners.push({ transport, port, scope: 'loopback-only', service: serviceFor(transport, port, protocolOf(transport, port, expectation)) });
        truth[transport][port] = 'closed';
        continue;
      }
    }
    if (state === 'open') {
      let service = serviceFor(transport, port, protocolOf(transport, port, expectation));
      const plainService = transport === 'tcp' ? PLAIN_OF_TLS[service as EmulatedTcpService] : undefined;
      if (plain.has(k) || oldTls.has(k)) {
        if (!plainService) throw new Error(`drift: ${k} is documented ${expectation.protocol || 'without a protocol'}, not a TLS service`);
        if (plain.has(k)) {
          deviations.push({ kind: 'service-plain', transport, port, documented: expectation.protocol, emulated: 'open' });
          service = plainService;
        } else deviations.push({ kind: 'service-old-tls', transport, port, documented: expectation.protocol, emulated: 'open' });
      }
      listeners.push({ transport, port, scope: 'external', service, ...(oldTls.has(k) ? { tlsVersion: 'TLSv1' as const } : {}) });
      truth[transport][port] = 'open';
    } else if (state === 'filtered' && options.firewall) {
      drop[transport].push(port);
      truth[transport][port] = dropped[transport];
    } else {
      if (state === 'filtered') notEmulated.push({ transport, port, documented: text, reason: 'needs a firewall (root)' });
      truth[transport][port] = 'closed';
    }
  }
  for (const ref of drift.exposedInternal ?? []) {
    const entry = documented.get(refKey(ref));
    if (!entry?.expectation.internal) throw new Error(`drift: ${refKey(ref)} is not an intra-device port`);
  }
  for (const ref of [
    ...(drift.missingListeners ?? []),
    ...(drift.toggledOptional ?? []),
    ...(drift.silentListeners ?? []),
    ...(drift.reachableFiltered ?? []),
    ...(drift.plainServices ?? []),
    ...(drift.oldTlsServices ?? []),
  ]) {
    if (!documented.has(refKey(ref))) throw new Error(`drift: ${refKey(ref)} is not documented by the selection`);
  }
  for (const ref of drift.extraListeners ?? []) {
    const k = refKey(ref);
    if (documented.has(k)) throw new Error(`drift: ${k} is documented, so it cannot be an extra listener`);
    listeners.push({ transport: ref.transport, port: ref.port, scope: 'external', service: serviceFor(ref.transport, ref.port, '') });
    truth[ref.transport][ref.port] = 'open';
    const range = dynamicRanges[ref.transport].find((candidate) => ref.port >= candidate.start && ref.port <= candidate.end);
    deviations.push(
      range
        ? { kind: 'dynamic-open', transport: ref.transport, port: ref.port, documented: `dynamic range ${range.start}-${range.end}`, emulated: 'open' }
        : { kind: 'extra-listener', transport: ref.transport, port: ref.port, documented: 'undocumented', emulated: 'open' },
    );
  }

  let allowOnly: TargetPlan['allowOnly'] = null;
  if (hardened && options.firewall) {
    // Documented ports (dynamic ranges included) pass the firewall; extra listeners are what a
    // hardening forgot, so they pass too and stay visible.
    const extra: Record<Transport, number[]> = { tcp: [], udp: [] };
    for (const ref of drift.extraListeners ?? []) extra[ref.transport].push(ref.port);
    allowOnly = {
      tcp: normalizeRanges([...documentedRanges.tcp, ...toRanges(extra.tcp)]),
      udp: normalizeRanges([...documentedRanges.udp, ...toRanges(extra.udp)]),
    };
    truth.closedRanges = { tcp: allowOnly.tcp, udp: allowOnly.udp };
  } else if (hardened) {
    notEmulated.push({ transport: 'tcp', port: 0, documented: 'hardened', reason: 'dropping undocumented ports needs a firewall (root)' });
  }
  return { listeners, drop: { tcp: toRanges(drop.tcp), udp: toRanges(drop.udp) }, allowOnly, truth, deviations, notEmulated };
}

/** The expected observed state of one port on the target. */
export function truthOf(truth: PortTruth, transport: Transport, port: number): PortState {
  const listed = truth[transport][port];
  if (listed) return listed;
  if (truth.closedRanges[transport].some((range) => port >= range.start && port <= range.end)) return 'closed';
  return truth.otherPorts[transport];
}
