/**
 * Conformance: expected listeners x observations -> findings, one per expected port per host
 * (conformant ones included, so a report can draw the whole port map) plus one per open port
 * the matrix does not account for. Pure.
 *
 * Decisions the design leaves open, made here:
 * - Closed and filtered are both "dark"; the difference is never a finding by itself.
 * - An unlisted planned port of a complete host has its transport's folded state (closed or
 *   filtered, see src/scan/fold.ts); with nothing folded for the transport, closed.
 * - A port that was not scanned (outside the plan, or not reached on an incomplete host)
 *   gives no finding: absence of evidence is not a missing listener.
 * - Rows with a condition read from the document's prose (high availability only, a feature or
 *   role, a legacy port, a port on the client PC ...): unless the condition is declared to hold
 *   (policy `conditions:` or --condition: a kind, the row id, or "*"), dark is conformant and
 *   open is a conditional-listener notice naming the condition that would make it expected;
 *   "open only for localhost" seen open is internal-port-exposed. Declared, or under --strict,
 *   the row is checked like any other.
 * - Conditional State cells of hand-written matrices ({ conditional: "..." }): unless declared,
 *   open and dark are both conformant and the finding says which was seen. Declared, the row's
 *   `whenMet` state is checked (without whenMet it stays "either").
 * - UDP open|filtered (no reply) is consistent with a dark port; where the row documents open
 *   it is udp-unconfirmed, never missing.
 * - A row documented closed and not optional that is found open is an extra listener
 *   (with its row reference): the document says it cannot be enabled.
 * - When rows disagree about one port (an ingress row documents a listener, an intra-device
 *   or dark row the same port), an open port is conformant on every one of them.
 * - "moved?": a documented-open, non-internal row whose default port is dark, with an open
 *   port inside its configurable range that no other row claims, gives one listener-moved
 *   finding on that row (the nearest such port); the open port is not reported again as extra.
 *   Wide ranges only count near the default (see NARROW_RANGE_PORTS).
 * - An open port that would be a deviation (extra, internal exposed, filtered reachable, optional
 *   enabled, dynamic open) but did not answer open on the scan's second look is port-flapping
 *   (a notice) instead.
 * - A host that answers on (nearly) every TCP port (HostScan.answersEverything) gets one
 *   answers-everything finding (port 0: the whole host) instead of a deviation per open TCP port;
 *   documented ports that stayed dark are still judged.
 */
import type { Expectation } from '../matrix/expectation.js';
import { conditionHolds } from '../matrix/conditions.js';
import type { ConditionKind, FixedState } from '../matrix/model.js';
import { countPorts, rangesContain } from '../model/port-range.js';
import { createPortLookup, type SeenPort } from '../model/host-ports.js';
import type { HostScan, Observation, Transport } from '../model/port-state.js';
import { classifyObserved, lookUpFinding, type FindingRule } from './findings-table.js';
import { describeHostStatus } from '../scan/host-status.js';
import type { Finding, FindingKind, HostFinding } from './model.js';
import type { ServiceCheck } from '../checks/model.js';
import { applyPolicy, DEFAULT_SEVERITIES, serviceThresholds } from './policy.js';
import { findServiceDeviations } from './services.js';
import type { Policy } from './policy.js';

export interface ConformanceOptions {
  expectations: readonly Expectation[];
  hosts: readonly HostScan[];
  policy?: Policy;
  /** Every deviation from the documented default is an error. */
  strict?: boolean;
  /** The moment waivers and certificates are judged against (expiry). */
  now?: Date;
  /** What the service checks saw (src/checks/); their findings cite the rows that name the protocol. */
  services?: readonly ServiceCheck[];
}

/** Port findings of the hosts that are up (or assumed up); a host that is not up is judged by checkHostStatus. */
export function checkConformance(options: ConformanceOptions): Finding[] {
  const judge: Judgement = { declared: new Set(options.policy?.conditions ?? []), strict: options.strict ?? false };
  const now = options.now ?? new Date();
  const judged = options.hosts.filter(isJudged);
  const findings = [
    ...judged.flatMap((host) => findHostDeviations(host, options.expectations, judge)),
    ...findServiceDeviations({
      checks: options.services ?? [],
      expectations: options.expectations,
      hosts: judged,
      thresholds: serviceThresholds(options.policy),
      now,
    }),
  ];
  // A waiver may name a host by its address, by the name it was resolved from, or by the target as written.
  const hostNames = new Map(options.hosts.map((host) => [host.address, [host.address, host.target, ...(host.name === undefined ? [] : [host.name])]]));
  return applyPolicy(findings, { policy: options.policy, strict: options.strict ?? false, now, hostNames });
}

/** Only a host that answered (or --assume-up) says anything about its listeners. */
export function isJudged(host: Pick<HostScan, 'status'>): boolean {
  return host.status.state === 'up';
}

/** One error finding per host that is not up: it could not be judged, which is not drift. */
export function checkHostStatus(hosts: readonly HostScan[]): HostFinding[] {
  return hosts
    .filter((host) => !isJudged(host))
    .map((host) => ({
      kind: 'host-not-up',
      severity: 'error',
      host: host.address,
      status: host.status,
      message: `host ${host.status.state}: ${describeHostStatus(host.status)}; its listeners were not judged`,
    }));
}

function portKey(transport: Transport, port: number): string {
  return `${transport}/${port}`;
}

/** What the rows are judged under: the declared conditions, and --strict (conditions ignored). */
interface Judgement {
  declared: ReadonlySet<string>;
  strict: boolean;
}

/**
 * 'conditional' / 'localhost-only': a row whose prose condition is not declared; 'either': a
 * conditional State cell not declared. Declared (or --strict), a row is its documented state.
 */
type EffectiveState = FixedState | 'either' | 'conditional' | 'localhost-only';

function effectiveState(expectation: Expectation, judge: Judgement): EffectiveState {
  const holds = conditionHolds(expectation, judge.declared);
  if (typeof expectation.state !== 'string') return holds && expectation.state.whenMet ? expectation.state.whenMet : 'either';
  if (!expectation.condition || judge.strict || holds) return expectation.state;
  return expectation.condition.kind === 'localhost-only' ? 'localhost-only' : 'conditional';
}

/** Where a conditional listener is expected, as a phrase after "expected only". */
const CONDITION_PHRASES: Record<ConditionKind, string> = {
  ha: 'in a high-availability pair',
  'localhost-only': 'for connections from the host itself',
  feature: 'where that feature runs',
  role: 'on a server in that role',
  legacy: 'where an old service still runs (the document marks the port unused or to be closed)',
  'client-side': 'on the client PC, not on the server',
  multicast: 'as a multicast group sent to clients',
};

function describeDocumented(expectation: Expectation): string {
  return typeof expectation.state === 'string' ? expectation.state : `"${expectation.state.conditional}"`;
}

function findHostDeviations(host: HostScan, expectations: readonly Expectation[], judge: Judgement): Finding[] {
  const lookup = createPortLookup(host);
  const fixed = expectations.filter((expectation) => !expectation.dynamic && expectation.state !== 'n/a');
  const dynamic = expectations.filter((expectation) => expectation.dynamic);
  const claimed = new Set<string>();
  for (const expectation of fixed) {
    for (let port = expectation.start; port <= expectation.end; port++) claimed.add(portKey(expectation.transport, port));
  }

  // Ports some row of the selection documents as a listener reachable from outside: another
  // row calling the same port intra-device or dark does not make it a deviation when it is open.
  const listenerPorts = new Set<string>();
  for (const expectation of fixed) {
    const state = effectiveState(expectation, judge);
    if (!expectation.internal && (state === 'open' || state === 'either')) listenerPorts.add(portKey(expectation.transport, expectation.start));
  }
  const documentedElsewhere = (expectation: Expectation, port: number): string | undefined => {
    if (!listenerPorts.has(portKey(expectation.transport, port))) return undefined;
    const other = fixed.find(
      (candidate) => candidate !== expectation && !candidate.internal && candidate.transport === expectation.transport && candidate.start === port,
    );
    return other?.ref.rowId;
  };

  const openObservations = host.observations
    .filter((observation) => observation.state === 'open')
    .sort((a, b) => compareText(a.transport, b.transport) || a.port - b.port);
  const consumed = new Set<string>();
  const findings: Finding[] = [];

  const finding = (
    kind: FindingKind,
    port: number,
    seen: SeenPort,
    message: string,
    expectation?: Expectation,
    extra: Partial<Finding> = {},
  ): Finding => ({
    kind,
    severity: DEFAULT_SEVERITIES[kind],
    host: host.address,
    transport: expectation?.transport ?? extra.transport ?? 'tcp',
    port,
    expected: expectation ? expectation.state : 'not documented',
    observed: seen.state,
    reason: seen.reason,
    ...(expectation ? { ref: expectation.ref, component: expectation.component } : {}),
    message,
    ...(seen.banner === undefined ? {} : { banner: seen.banner }),
    ...(seen.detail === undefined ? {} : { detail: seen.detail }),
    ...extra,
  });

  const anomaly = host.answersEverything;
  if (anomaly) {
    const forged = anomaly.invalidAnswers > 0 ? `; ${anomaly.invalidAnswers} answers failed validation against our SYNs` : '';
    findings.push(
      finding(
        'answers-everything',
        0,
        { state: 'open', reason: 'syn-ack' },
        `${anomaly.openPorts} of ${anomaly.scannedPorts} scanned TCP ports answered as open${forged}: a SYN proxy or middlebox answers for this host, so its open TCP ports are not reported one by one; scan from behind it`,
        undefined,
        { transport: 'tcp' },
      ),
    );
  }
  /** A deviation that rests on an open port: flapping when the second look did not confirm it, nothing when the host answers everything. */
  const unexpectedOpen = (kind: FindingKind, port: number, seen: SeenPort, message: string, expectation?: Expectation, extra: Partial<Finding> = {}): Finding | null => {
    if (anomaly && (expectation?.transport ?? extra.transport) === 'tcp') return null;
    if (!seen.flapping) return finding(kind, port, seen, message, expectation, extra);
    const transport = expectation?.transport ?? extra.transport ?? 'tcp';
    return finding('port-flapping', port, seen, `${transport}/${port} ${seen.detail ?? 'was open on the main pass only'}: not reported as ${kind.replace(/-/g, ' ')}`, expectation, extra);
  };
  const push = (entry: Finding | null): void => {
    if (entry) findings.push(entry);
  };

  for (const expectation of fixed) {
    const state = effectiveState(expectation, judge);
    for (let port = expectation.start; port <= expectation.end; port++) {
      const seen = lookup(expectation.transport, port);
      if (!seen) continue;
      const label = `${expectation.transport}/${port} (${expectation.protocol || 'documented port'})`;
      const observedText = `${seen.state} (${seen.reason})`;

      const listenerRow = seen.state === 'open' ? documentedElsewhere(expectation, port) : undefined;
      if (listenerRow !== undefined && (expectation.internal || state === 'closed' || state === 'filtered' || state === 'conditional' || state === 'localhost-only')) {
        findings.push(finding('conformant', port, seen, `${label} is open; row ${listenerRow} documents it as a listener`, expectation));
        continue;
      }
      const rule = lookUpFinding({
        // A condition that holds with "n/a" leaves a port that should not answer: judged as closed.
        documented: state === 'n/a' ? 'closed' : state,
        optional: expectation.optional,
        internal: expectation.internal,
        dynamic: false,
        observed: classifyObserved(seen.state),
      });
      if (!rule) continue;
      const moved = rule.kind === 'missing-listener' || rule.kind === 'optional-listener-disabled' ? findMovedListener(expectation, port, openObservations, claimed, consumed) : undefined;
      if (moved) {
        consumed.add(portKey(moved.transport, moved.port));
        findings.push(
          finding('listener-moved', port, seen, `${label} is ${observedText} but ${moved.transport}/${moved.port}, inside its configurable range, is open: moved?`, expectation, {
            movedTo: { port: moved.port, state: moved.state, reason: moved.reason, ...(moved.banner === undefined ? {} : { banner: moved.banner }) },
          }),
        );
        continue;
      }
      const message = describePortFinding(rule, { label, observedText, state, expectation });
      push(rule.restsOnOpenPort ? unexpectedOpen(rule.kind, port, seen, message, expectation) : finding(rule.kind, port, seen, message, expectation));
    }
  }

  for (const observation of openObservations) {
    const key = portKey(observation.transport, observation.port);
    if (claimed.has(key) || consumed.has(key)) continue;
    const range = dynamic.find(
      (expectation) => expectation.transport === observation.transport && observation.port >= expectation.start && observation.port <= expectation.end,
    );
    const label = `${observation.transport}/${observation.port}${observation.service ? ` (${observation.service})` : ''}`;
    const rule = lookUpFinding({ documented: 'undocumented', optional: false, internal: false, dynamic: range !== undefined, observed: 'open' });
    push(
      range
        ? unexpectedOpen(
            rule?.kind ?? 'dynamic-port-open',
            observation.port,
            observation,
            `${label} is open inside the dynamic range ${range.start}-${range.end} (${range.protocol || 'media'}); nothing should listen there at rest`,
            range,
          )
        : unexpectedOpen(rule?.kind ?? 'extra-listener', observation.port, observation, `${label} is open but no row of the matrix documents it`, undefined, {
            transport: observation.transport,
          }),
    );
  }

  return findings.sort(compareFindings);
}

/**
 * A range of at most this many ports names where the port may be moved to; a wider one
 * ("configurable 1-65535") only says it is configurable, and then a listener counts as moved
 * only within MOVED_NEIGHBOURHOOD ports of the default. Otherwise every extra listener on
 * the host would be taken for a moved one.
 */
/** The message of a documented port's finding: what was documented, what was seen. */
function describePortFinding(rule: FindingRule, context: { label: string; observedText: string; state: EffectiveState; expectation: Expectation }): string {
  const { label, observedText, state, expectation } = context;
  const condition = expectation.condition;
  switch (rule.kind) {
    case 'internal-port-exposed':
      if (state === 'localhost-only') return `${label} is documented open only for localhost but is open from the scanner`;
      return `${label} is an intra-device port but is open from the scanner`;
    case 'conditional-listener':
      return `${label} is open; the document expects it only ${condition ? `${CONDITION_PHRASES[condition.kind]} ("${condition.text}"): declare it with --condition ${condition.kind} (or ${expectation.ref.rowId}) if that holds here` : 'under a condition'}`;
    case 'udp-unconfirmed':
      return `${label} is documented open but sent no reply: open or filtered, cannot tell`;
    case 'optional-listener-disabled':
      return `${label} is documented open (optional) but is ${observedText}`;
    case 'missing-listener':
      return `${label} is documented open but is ${observedText}: the listener is missing`;
    case 'filtered-port-reachable':
      return `${label} is documented filtered but accepts connections`;
    case 'optional-listener-enabled':
      return `${label} is documented closed (optional) but is open`;
    case 'extra-listener':
      return `${label} is documented closed and not optional, but is open`;
    default:
      if (rule.internal) return `${label} is an intra-device port and is ${observedText} from outside, as it should be`;
      if ((rule.documented === 'conditional' || rule.documented === 'localhost-only') && condition) {
        return `${label} is ${observedText}: expected only ${CONDITION_PHRASES[condition.kind]} ("${condition.text}"), and that is not declared`;
      }
      if (rule.documented === 'either') {
        return `${label} is documented ${describeDocumented(expectation)} and is ${observedText}; the condition decides, so either is conformant (declare row ${expectation.ref.rowId} under conditions in a policy file, or with --condition, to check it)`;
      }
      if (rule.documented === 'open') return `${label} is open, as documented`;
      return `${label} is ${observedText}; documented ${state}`;
  }
}

const NARROW_RANGE_PORTS = 1024;
const MOVED_NEIGHBOURHOOD = 64;

/** The nearest open, unclaimed port inside the row's configurable range (not the default itself). */
function findMovedListener(
  expectation: Expectation,
  defaultPort: number,
  openObservations: readonly Observation[],
  claimed: ReadonlySet<string>,
  consumed: ReadonlySet<string>,
): Observation | undefined {
  const ranges = expectation.configurable;
  if (!ranges || ranges.length === 0) return undefined;
  const narrow = countPorts(ranges) <= NARROW_RANGE_PORTS;
  const candidates = openObservations.filter(
    (observation) =>
      observation.transport === expectation.transport &&
      observation.port !== defaultPort &&
      rangesContain(ranges, observation.port) &&
      (narrow || Math.abs(observation.port - defaultPort) <= MOVED_NEIGHBOURHOOD) &&
      !claimed.has(portKey(observation.transport, observation.port)) &&
      !consumed.has(portKey(observation.transport, observation.port)),
  );
  const distance = (observation: Observation) => Math.abs(observation.port - defaultPort);
  return candidates.sort((a, b) => distance(a) - distance(b) || a.port - b.port)[0];
}

/** Findings of one host: by transport, port, then matrix row (a stable order for every report). */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    compareText(a.transport, b.transport) ||
    a.port - b.port ||
    compareText(a.ref?.rowId ?? '', b.ref?.rowId ?? '') ||
    compareText(a.kind, b.kind)
  );
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
