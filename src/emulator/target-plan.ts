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
import { conditionHolds } from '../matrix/conditions.js';
import type { Expectation } from '../matrix/expectation.js';
import { normalizeRanges, type PortRange } from '../model/port-range.js';
import { portKey, type PortState, type Transport } from '../model/port-state.js';
import { driftPorts, refKey, type DriftPorts, type DriftSpec } from './drift.js';
import { PLAIN_OF_TLS, serviceFor, serviceOfPorts, type EmulatedTcpService, type EmulatedUdpService, type ServiceOf } from './services.js';

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

/** The ports the selection documents: one entry per (transport, port), and the ranges. */
interface DocumentedPorts {
  ports: Map<string, { transport: Transport; port: number; expectation: Expectation }>;
  ranges: Record<Transport, PortRange[]>;
  dynamicRanges: Record<Transport, PortRange[]>;
}

/** The plan as it is built, port by port. */
interface TargetDraft {
  declared: ReadonlySet<string>;
  firewall: boolean;
  drift: DriftPorts;
  serviceOf: ServiceOf;
  listeners: PlannedListener[];
  drop: Record<Transport, number[]>;
  truth: PortTruth;
  deviations: Deviation[];
  notEmulated: TargetPlan['notEmulated'];
}

/** What a dropped packet looks like to the scanner. */
const DROPPED: Record<Transport, PortState> = { tcp: 'filtered', udp: 'open|filtered' };

export function planTarget(options: PlanTargetOptions): TargetPlan {
  const drift = options.drift ?? {};
  const hardened = options.hardened ?? false;
  const declared: ReadonlySet<string> = new Set(options.conditions ?? []);
  const documented = collectDocumentedPorts(options.expectations, declared);
  const draft: TargetDraft = {
    declared,
    firewall: options.firewall,
    drift: driftPorts(drift),
    serviceOf: serviceOfPorts(options.expectations),
    listeners: [],
    drop: { tcp: [], udp: [] },
    truth: {
      tcp: {},
      udp: {},
      otherPorts: hardened && options.firewall ? { tcp: 'filtered', udp: 'open|filtered' } : { tcp: 'closed', udp: 'closed' },
      closedRanges: { tcp: [], udp: [] },
    },
    deviations: [],
    notEmulated: [],
  };
  for (const [k, entry] of documented.ports) planDocumentedPort(draft, k, entry.transport, entry.port, entry.expectation);
  checkDriftRefs(drift, documented);
  planExtraListeners(draft, drift, documented);
  const allowOnly = planHardening(draft, drift, documented, hardened);
  const { listeners, drop, truth, deviations, notEmulated } = draft;
  return { listeners, drop: { tcp: toRanges(drop.tcp), udp: toRanges(drop.udp) }, allowOnly, truth, deviations, notEmulated };
}

function collectDocumentedPorts(expectations: readonly Expectation[], declared: ReadonlySet<string>): DocumentedPorts {
  // One entry per (transport, port); a port documented by several rows takes the most open state.
  const ports: DocumentedPorts['ports'] = new Map();
  const ranges: Record<Transport, PortRange[]> = { tcp: [], udp: [] };
  const dynamicRanges: Record<Transport, PortRange[]> = { tcp: [], udp: [] };
  const rank = { open: 2, filtered: 1, closed: 0 } as const;
  for (const expectation of expectations) {
    ranges[expectation.transport].push({ start: expectation.start, end: expectation.end });
    if (expectation.dynamic) {
      dynamicRanges[expectation.transport].push({ start: expectation.start, end: expectation.end });
      continue;
    }
    for (let port = expectation.start; port <= expectation.end; port += 1) {
      const k = portKey(expectation.transport, port);
      const existing = ports.get(k);
      if (!existing || rank[restingState(expectation, declared)] > rank[restingState(existing.expectation, declared)]) {
        ports.set(k, { transport: expectation.transport, port, expectation });
      }
    }
  }
  return { ports, ranges, dynamicRanges };
}

/** One documented port: its resting state, changed by drift, becomes a listener, a drop or nothing. */
function planDocumentedPort(draft: TargetDraft, k: string, transport: Transport, port: number, expectation: Expectation): void {
  const { truth, drift } = draft;
  const text = documentedText(expectation);
  let state = driftedState(draft, k, transport, port, expectation);
  if (drift.silent.has(k)) {
    if (transport !== 'udp') throw new Error(`drift: ${k}: only a UDP listener can be silent (a TCP handshake is the kernel's)`);
    if (state !== 'open' || expectation.internal) throw new Error(`drift: ${k} is not a documented-open UDP listener reachable from outside, so it cannot be silent`);
    draft.listeners.push({ transport, port, scope: 'external', service: draft.serviceOf(transport, port, expectation), silent: true });
    truth[transport][port] = 'open|filtered';
    draft.deviations.push({ kind: 'listener-silent', transport, port, documented: text, emulated: 'open|filtered' });
    return;
  }
  if (loopbackOnly(expectation, draft.declared)) {
    if (drift.exposed.has(k)) {
      state = 'open';
      draft.deviations.push({ kind: 'internal-exposed', transport, port, documented: `intra-device ${text}`, emulated: 'open' });
    } else {
      // Intra-device: the service runs, but on loopback only, so it is dark from outside.
      if (state === 'open') draft.listeners.push({ transport, port, scope: 'loopback-only', service: draft.serviceOf(transport, port, expectation) });
      truth[transport][port] = 'closed';
      return;
    }
  }
  if (state === 'open') {
    planOpenListener(draft, k, transport, port, expectation);
  } else if (state === 'filtered' && draft.firewall) {
    draft.drop[transport].push(port);
    truth[transport][port] = DROPPED[transport];
  } else {
    if (state === 'filtered') draft.notEmulated.push({ transport, port, documented: text, reason: 'needs a firewall (root)' });
    truth[transport][port] = 'closed';
  }
}

/** The resting state after the drift that changes it: a missing listener, a toggled optional port, a reachable filtered one. */
function driftedState(draft: TargetDraft, k: string, transport: Transport, port: number, expectation: Expectation): 'open' | 'closed' | 'filtered' {
  const { drift, deviations } = draft;
  let state = restingState(expectation, draft.declared);
  const text = documentedText(expectation);
  if (drift.missing.has(k)) {
    if (state !== 'open') throw new Error(`drift: ${k} is documented ${text}, so it cannot be a missing listener`);
    state = 'closed';
    deviations.push({ kind: 'missing-listener', transport, port, documented: text, emulated: 'closed' });
  }
  if (drift.toggled.has(k)) {
    if (!expectation.optional) throw new Error(`drift: ${k} is not optional, so it cannot be toggled`);
    state = state === 'open' ? 'closed' : 'open';
    deviations.push({ kind: 'optional-toggled', transport, port, documented: text, emulated: state });
  }
  if (drift.reachable.has(k)) {
    if (state !== 'filtered') throw new Error(`drift: ${k} is documented ${text}, so it cannot be a reachable filtered port`);
    state = 'open';
    deviations.push({ kind: 'filtered-reachable', transport, port, documented: text, emulated: 'open' });
  }
  return state;
}

/** An open port on the scanned address, its TLS taken away or made old when drift says so. */
function planOpenListener(draft: TargetDraft, k: string, transport: Transport, port: number, expectation: Expectation): void {
  const { drift, deviations } = draft;
  let service = draft.serviceOf(transport, port, expectation);
  const plainService = transport === 'tcp' ? PLAIN_OF_TLS[service as EmulatedTcpService] : undefined;
  if (drift.plain.has(k) || drift.oldTls.has(k)) {
    if (!plainService) throw new Error(`drift: ${k} is documented ${expectation.protocol || 'without a protocol'}, not a TLS service`);
    if (drift.plain.has(k)) {
      deviations.push({ kind: 'service-plain', transport, port, documented: expectation.protocol, emulated: 'open' });
      service = plainService;
    } else deviations.push({ kind: 'service-old-tls', transport, port, documented: expectation.protocol, emulated: 'open' });
  }
  draft.listeners.push({ transport, port, scope: 'external', service, ...(drift.oldTls.has(k) ? { tlsVersion: 'TLSv1' as const } : {}) });
  draft.truth[transport][port] = 'open';
}

/** Drift that names a port must name one the selection documents (and exposed ones an intra-device port). */
function checkDriftRefs(drift: DriftSpec, documented: DocumentedPorts): void {
  for (const ref of drift.exposedInternal ?? []) {
    const entry = documented.ports.get(refKey(ref));
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
    if (!documented.ports.has(refKey(ref))) throw new Error(`drift: ${refKey(ref)} is not documented by the selection`);
  }
}

/** Extra listeners on undocumented ports (inside a dynamic range: a dynamic port open). */
function planExtraListeners(draft: TargetDraft, drift: DriftSpec, documented: DocumentedPorts): void {
  for (const ref of drift.extraListeners ?? []) {
    const k = refKey(ref);
    if (documented.ports.has(k)) throw new Error(`drift: ${k} is documented, so it cannot be an extra listener`);
    draft.listeners.push({ transport: ref.transport, port: ref.port, scope: 'external', service: serviceFor(ref.transport, ref.port, '') });
    draft.truth[ref.transport][ref.port] = 'open';
    const range = documented.dynamicRanges[ref.transport].find((candidate) => ref.port >= candidate.start && ref.port <= candidate.end);
    draft.deviations.push(
      range
        ? { kind: 'dynamic-open', transport: ref.transport, port: ref.port, documented: `dynamic range ${range.start}-${range.end}`, emulated: 'open' }
        : { kind: 'extra-listener', transport: ref.transport, port: ref.port, documented: 'undocumented', emulated: 'open' },
    );
  }
}

/** Hardened: everything but the documented ports (and the extra listeners) is dropped. */
function planHardening(draft: TargetDraft, drift: DriftSpec, documented: DocumentedPorts, hardened: boolean): TargetPlan['allowOnly'] {
  if (!hardened) return null;
  if (!draft.firewall) {
    draft.notEmulated.push({ transport: 'tcp', port: 0, documented: 'hardened', reason: 'dropping undocumented ports needs a firewall (root)' });
    return null;
  }
  // Documented ports (dynamic ranges included) pass the firewall; extra listeners are what a
  // hardening forgot, so they pass too and stay visible.
  const extra: Record<Transport, number[]> = { tcp: [], udp: [] };
  for (const ref of drift.extraListeners ?? []) extra[ref.transport].push(ref.port);
  const allowOnly = {
    tcp: normalizeRanges([...documented.ranges.tcp, ...toRanges(extra.tcp)]),
    udp: normalizeRanges([...documented.ranges.udp, ...toRanges(extra.udp)]),
  };
  draft.truth.closedRanges = { tcp: allowOnly.tcp, udp: allowOnly.udp };
  return allowOnly;
}

/** The expected observed state of one port on the target. */
export function truthOf(truth: PortTruth, transport: Transport, port: number): PortState {
  const listed = truth[transport][port];
  if (listed) return listed;
  if (truth.closedRanges[transport].some((range) => port >= range.start && port <= range.end)) return 'closed';
  return truth.otherPorts[transport];
}
