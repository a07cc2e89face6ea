/**
 * Conformance: expected listeners x observations -> findings, one per expected port per host
 * (conformant ones included, so a report can draw the whole port map) plus one per open port
 * the matrix does not account for. Pure.
 *
 * Decisions the design leaves open, made here (the per-host walk is host-deviations.ts):
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
import type { HostScan } from '../model/port-state.js';
import { describeHostStatus, EXIT_HOST_NOT_JUDGED } from '../scan/host-status.js';
import type { FailOn, Finding, HostFinding } from './model.js';
import type { ServiceCheck } from '../checks/model.js';
import { findHostDeviations, type Judgement } from './host-deviations.js';
import { applyPolicy, exitCodeFor, exitCodeWithHostFindings, serviceThresholds } from './policy.js';
import { findServiceDeviations } from './services.js';
import type { Policy } from './policy.js';

export { compareFindings, compareText } from './order.js';


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

/** The one judging step of a run, a history comparison and a re-judged report: port and service findings of the hosts that are up, one host finding per host that is not. */
export function judgeHosts(options: ConformanceOptions): { findings: Finding[]; hostFindings: HostFinding[] } {
  return { findings: checkConformance(options), hostFindings: checkHostStatus(options.hosts, options.policy) };
}

/**
 * 0, 1 or 3 from a finished result's verdict, the one rule for a run, a view and a re-judged report:
 * findings at --fail-on give 1, a host not up at error severity gives 3 (it wins over 1); without a
 * matrix only the hosts count.
 */
export function verdictExitCode(result: {
  hosts: readonly HostScan[];
  conformance?: { findings: readonly Finding[]; hostFindings: readonly HostFinding[]; failOn: FailOn } | undefined;
}): 0 | 1 | 3 {
  const conformance = result.conformance;
  if (!conformance) return checkHostStatus(result.hosts).length > 0 ? EXIT_HOST_NOT_JUDGED : 0;
  return exitCodeWithHostFindings(conformance.hostFindings, conformance.failOn, exitCodeFor(conformance.findings, conformance.failOn));
}

/** Only a host that answered (or --assume-up) says anything about its listeners. */
export function isJudged(host: Pick<HostScan, 'status'>): boolean {
  return host.status.state === 'up';
}

/** One finding per host that is not up (error unless the policy says otherwise): it could not be judged, which is not drift. */
export function checkHostStatus(hosts: readonly HostScan[], policy?: Pick<Policy, 'severities'>): HostFinding[] {
  return hosts
    .filter((host) => !isJudged(host))
    .map((host) => ({
      kind: 'host-not-up',
      severity: policy?.severities['host-not-up'] ?? 'error',
      host: host.address,
      status: host.status,
      message: `host ${host.status.state}: ${describeHostStatus(host.status)}; its listeners were not judged`,
    }));
}
