/**
 * One host's port findings: every port of every documented row looked up in what the scan saw
 * and judged by the findings table (src/conformance/findings-table.ts), then every open port no
 * row documents. The decisions it implements are listed at the top of diff.ts. Pure.
 */
import type { Expectation } from '../matrix/expectation.js';
import { conditionHolds } from '../matrix/conditions.js';
import { countPorts, rangesContain } from '../model/port-range.js';
import { createPortLookup, type SeenPort } from '../model/host-ports.js';
import { portKey, type AnswersEverything, type HostScan, type Observation, type Transport } from '../model/port-state.js';
import { classifyObserved, lookUpFinding } from './findings-table.js';
import type { Finding, FindingKind } from './model.js';
import { compareFindings, compareText } from './order.js';
import { DEFAULT_SEVERITIES } from './policy.js';
import { describePortFinding, type EffectiveState } from './port-messages.js';

/** What the rows are judged under: the declared conditions, and --strict (conditions ignored). */
export interface Judgement {
  declared: ReadonlySet<string>;
  strict: boolean;
}

function effectiveState(expectation: Expectation, judge: Judgement): EffectiveState {
  const holds = conditionHolds(expectation, judge.declared);
  if (typeof expectation.state !== 'string') return holds && expectation.state.whenMet ? expectation.state.whenMet : 'either';
  if (!expectation.condition || judge.strict || holds) return expectation.state;
  return expectation.condition.kind === 'localhost-only' ? 'localhost-only' : 'conditional';
}

/** What the steps of one host's judgement share. */
interface HostJudgement {
  host: HostScan;
  judge: Judgement;
  lookup: (transport: Transport, port: number) => SeenPort | undefined;
  /** Rows with a fixed documented state (not dynamic, not "n/a"). */
  fixed: Expectation[];
  dynamic: Expectation[];
  /** Ports some fixed row documents: an open one is never an extra listener. */
  claimed: Set<string>;
  /**
   * Ports some row of the selection documents as a listener reachable from outside: another
   * row calling the same port intra-device or dark does not make it a deviation when it is open.
   */
  listenerPorts: Set<string>;
  openObservations: Observation[];
  /** Open ports already reported as where a listener moved to. */
  consumed: Set<string>;
  findings: Finding[];
}

export function findHostDeviations(host: HostScan, expectations: readonly Expectation[], judge: Judgement): Finding[] {
  const context = prepareHostJudgement(host, expectations, judge);
  if (host.answersEverything) context.findings.push(answersEverythingFinding(host, host.answersEverything));
  for (const expectation of context.fixed) {
    for (let port = expectation.start; port <= expectation.end; port++) judgeDocumentedPort(context, expectation, port);
  }
  for (const observation of context.openObservations) judgeUndocumentedOpenPort(context, observation);
  return context.findings.sort(compareFindings);
}

function prepareHostJudgement(host: HostScan, expectations: readonly Expectation[], judge: Judgement): HostJudgement {
  const fixed = expectations.filter((expectation) => !expectation.dynamic && expectation.state !== 'n/a');
  const claimed = new Set<string>();
  const listenerPorts = new Set<string>();
  for (const expectation of fixed) {
    for (let port = expectation.start; port <= expectation.end; port++) claimed.add(portKey(expectation.transport, port));
    const state = effectiveState(expectation, judge);
    if (!expectation.internal && (state === 'open' || state === 'either')) listenerPorts.add(portKey(expectation.transport, expectation.start));
  }
  return {
    host,
    judge,
    lookup: createPortLookup(host),
    fixed,
    dynamic: expectations.filter((expectation) => expectation.dynamic),
    claimed,
    listenerPorts,
    openObservations: host.observations
      .filter((observation) => observation.state === 'open')
      .sort((a, b) => compareText(a.transport, b.transport) || a.port - b.port),
    consumed: new Set(),
    findings: [],
  };
}

/** The row id of another outside-reachable row documenting this port as a listener, if any. */
function documentedElsewhere(context: HostJudgement, expectation: Expectation, port: number): string | undefined {
  if (!context.listenerPorts.has(portKey(expectation.transport, port))) return undefined;
  const other = context.fixed.find(
    (candidate) => candidate !== expectation && !candidate.internal && candidate.transport === expectation.transport && candidate.start === port,
  );
  return other?.ref.rowId;
}

/** What a finding is made of; `extra` overrides (the transport of an undocumented port, where a listener moved to). */
type FindingParts = [kind: FindingKind, port: number, seen: SeenPort, message: string, expectation?: Expectation, extra?: Partial<Finding>];

function makeFinding(host: HostScan, ...[kind, port, seen, message, expectation, extra = {}]: FindingParts): Finding {
  return {
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
  };
}

function answersEverythingFinding(host: HostScan, anomaly: AnswersEverything): Finding {
  const forged = anomaly.invalidAnswers > 0 ? `; ${anomaly.invalidAnswers} answers failed validation against our SYNs` : '';
  return makeFinding(
    host,
    'answers-everything',
    0,
    { state: 'open', reason: 'syn-ack' },
    `${anomaly.openPorts} of ${anomaly.scannedPorts} scanned TCP ports answered as open${forged}: a SYN proxy or middlebox answers for this host, so its open TCP ports are not reported one by one; scan from behind it`,
    undefined,
    { transport: 'tcp' },
  );
}

/** A deviation that rests on an open port: flapping when the second look did not confirm it, nothing when the host answers everything. */
function pushUnexpectedOpen(context: HostJudgement, ...[kind, port, seen, message, expectation, extra = {}]: FindingParts): void {
  const { host } = context;
  if (host.answersEverything && (expectation?.transport ?? extra.transport) === 'tcp') return;
  if (!seen.flapping) {
    context.findings.push(makeFinding(host, kind, port, seen, message, expectation, extra));
    return;
  }
  const transport = expectation?.transport ?? extra.transport ?? 'tcp';
  const flapping = `${transport}/${port} ${seen.detail ?? 'was open on the main pass only'}: not reported as ${kind.replace(/-/g, ' ')}`;
  context.findings.push(makeFinding(host, 'port-flapping', port, seen, flapping, expectation, extra));
}

/** One port of a documented row: conformant, a deviation from the findings table, or moved. */
function judgeDocumentedPort(context: HostJudgement, expectation: Expectation, port: number): void {
  const { host } = context;
  const seen = context.lookup(expectation.transport, port);
  if (!seen) return;
  const state = effectiveState(expectation, context.judge);
  const label = `${expectation.transport}/${port} (${expectation.protocol || 'documented port'})`;
  const observedText = `${seen.state} (${seen.reason})`;

  const listenerRow = seen.state === 'open' ? documentedElsewhere(context, expectation, port) : undefined;
  if (listenerRow !== undefined && (expectation.internal || state === 'closed' || state === 'filtered' || state === 'conditional' || state === 'localhost-only')) {
    context.findings.push(makeFinding(host, 'conformant', port, seen, `${label} is open; row ${listenerRow} documents it as a listener`, expectation));
    return;
  }
  const rule = lookUpFinding({
    // A condition that holds with "n/a" leaves a port that should not answer: judged as closed.
    documented: state === 'n/a' ? 'closed' : state,
    optional: expectation.optional,
    internal: expectation.internal,
    dynamic: false,
    observed: classifyObserved(seen.state),
  });
  if (!rule) return;
  const moved =
    rule.kind === 'missing-listener' || rule.kind === 'optional-listener-disabled'
      ? findMovedListener(expectation, port, context.openObservations, context.claimed, context.consumed)
      : undefined;
  if (moved) {
    context.consumed.add(portKey(moved.transport, moved.port));
    const message = `${label} is ${observedText} but ${moved.transport}/${moved.port}, inside its configurable range, is open: moved?`;
    context.findings.push(
      makeFinding(host, 'listener-moved', port, seen, message, expectation, {
        movedTo: { port: moved.port, state: moved.state, reason: moved.reason, ...(moved.banner === undefined ? {} : { banner: moved.banner }) },
      }),
    );
    return;
  }
  const message = describePortFinding(rule, { label, observedText, state, expectation });
  if (rule.restsOnOpenPort) pushUnexpectedOpen(context, rule.kind, port, seen, message, expectation);
  else context.findings.push(makeFinding(host, rule.kind, port, seen, message, expectation));
}

/** An open port no fixed row documents: inside a dynamic range, or an extra listener. */
function judgeUndocumentedOpenPort(context: HostJudgement, observation: Observation): void {
  const key = portKey(observation.transport, observation.port);
  if (context.claimed.has(key) || context.consumed.has(key)) return;
  const range = context.dynamic.find(
    (expectation) => expectation.transport === observation.transport && observation.port >= expectation.start && observation.port <= expectation.end,
  );
  const label = `${observation.transport}/${observation.port}${observation.service ? ` (${observation.service})` : ''}`;
  const rule = lookUpFinding({ documented: 'undocumented', optional: false, internal: false, dynamic: range !== undefined, observed: 'open' });
  if (range) {
    const message = `${label} is open inside the dynamic range ${range.start}-${range.end} (${range.protocol || 'media'}); nothing should listen there at rest`;
    pushUnexpectedOpen(context, rule?.kind ?? 'dynamic-port-open', observation.port, observation, message, range);
    return;
  }
  pushUnexpectedOpen(context, rule?.kind ?? 'extra-listener', observation.port, observation, `${label} is open but no row of the matrix documents it`, undefined, {
    transport: observation.transport,
  });
}

/**
 * A range of at most this many ports names where the port may be moved to; a wider one
 * ("configurable 1-65535") only says it is configurable, and then a listener counts as moved
 * only within MOVED_NEIGHBOURHOOD ports of the default. Otherwise every extra listener on
 * the host would be taken for a moved one.
 */
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
