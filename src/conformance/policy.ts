/**
 * Severity policy: the defaults of design.md, --strict, and a policy file with severity
 * overrides, waivers (accepted exceptions with a reason and an expiry date) and the
 * conditions that hold on the scanned host (high availability, a feature, a role ...). Pure.
 *
 * Precedence (flags win over the file, which wins over defaults):
 *   default severity -> policy `severities` -> --strict -> waivers.
 * --strict makes every deviation from the documented default an error; udp-unconfirmed and
 * service-no-answer are not deviations (no reply proves nothing either way) and keep their severity.
 * `checks` sets the service checks' thresholds: the lowest TLS version a listener may accept
 * (default TLS 1.2) and how many days before expiry a certificate is a finding (default 30).
 * A waiver still suppresses under --strict: it is an explicit, dated decision.
 * A waiver holds through its expiry day (UTC); after that it stays attached to the
 * findings it matches, marked expired, and suppresses nothing.
 * The policy file itself is read by policy-file.ts (yaml, zod), loaded only when one is given.
 */
import { PortmatrixError } from '../errors.js';
import { parsePortSpec, rangesContain } from '../model/port-range.js';
import type { PortRange } from '../model/port-range.js';
import type { Transport } from '../model/port-state.js';
import type { Expectation } from '../matrix/expectation.js';
import { CONDITION_KINDS } from '../matrix/condition-kinds.js';
import type { MatrixRow } from '../matrix/model.js';
import type { TlsVersion } from '../checks/model.js';
import { DEFAULT_CERTIFICATE_EXPIRY_DAYS, DEFAULT_TLS_FLOOR } from '../defaults.js';
import type { FailOn, Finding, FindingKind, HostFinding, Severity } from './model.js';
import { EXIT_HOST_NOT_JUDGED } from '../scan/host-status.js';

export const DEFAULT_SEVERITIES: Readonly<Record<FindingKind, Severity>> = {
  'missing-listener': 'error',
  'optional-listener-disabled': 'notice',
  'optional-listener-enabled': 'warning',
  'filtered-port-reachable': 'warning',
  'internal-port-exposed': 'warning',
  'extra-listener': 'error',
  'dynamic-port-open': 'notice',
  'udp-unconfirmed': 'notice',
  // A configured move is often legitimate, but only a person can tell: worth a look, not a failure.
  'listener-moved': 'warning',
  // Documented HTTPS answering plain HTTP, SSH answering something else: the port is not what the document says.
  'service-mismatch': 'error',
  // Silence proves little (a busy or filtered service); worth a look.
  'service-no-answer': 'notice',
  'tls-below-floor': 'warning',
  'certificate-expired': 'error',
  'certificate-expiring': 'warning',
  // Avaya appliances ship self-signed certificates and are reached by address: common, and a choice.
  'certificate-self-signed': 'notice',
  'certificate-name-mismatch': 'notice',
  // Open on the main pass, dark on a second look: worth knowing, not an extra listener.
  'port-flapping': 'notice',
  // The host (or a box in front of it) answers every SYN: no TCP listener can be judged there.
  'answers-everything': 'error',
  // Open where the document expects it only under a condition nobody declared: worth saying which.
  'conditional-listener': 'notice',
  conformant: 'off',
};

/** Kinds that --strict leaves alone: they are not deviations from the documented default. */
const NOT_DEVIATIONS: ReadonlySet<FindingKind> = new Set(['conformant', 'udp-unconfirmed', 'service-no-answer']);

/** A kind whose severity a policy sets: a finding kind, or host-not-up. */
export type PolicyKind = FindingKind | 'host-not-up';

export interface Waiver {
  /** As written: "8080", "5060-5061". */
  ports: string;
  transport?: Transport;
  /** A host's address, the name it was resolved from or the target as written, or a glob over one ("198.18.0.*", "pbx-?.example.net"). */
  host?: string;
  kind?: FindingKind;
  reason: string;
  ticket?: string;
  /** YYYY-MM-DD; the waiver holds through that day (UTC). */
  expires: string;
}

export interface Policy {
  /** The file the policy came from, for reports. */
  source?: string;
  severities: Partial<Record<PolicyKind, Severity>>;
  waivers: Waiver[];
  /**
   * Conditions that hold on the scanned hosts: condition kinds ("ha"), matrix row ids, or "*" for all
   * (src/matrix/conditions.ts). A conditional row whose condition holds is checked like any other.
   */
  conditions: string[];
  /** "file:line:col" (or the option) of each conditions entry, for messages about rows the selection does not have. */
  conditionsAt?: string[];
  /** Thresholds of the service-check findings; defaults in src/defaults.ts. */
  checks?: ServiceThresholds;
}

export interface ServiceThresholds {
  tlsFloor: TlsVersion;
  certificateExpiryDays: number;
}

export function serviceThresholds(policy: Policy | undefined): ServiceThresholds {
  return { tlsFloor: policy?.checks?.tlsFloor ?? DEFAULT_TLS_FLOOR, certificateExpiryDays: policy?.checks?.certificateExpiryDays ?? DEFAULT_CERTIFICATE_EXPIRY_DAYS };
}

/**
 * A policy naming a row the check does not have is a mistake that used to pass silently (the
 * condition then held nowhere): every conditions entry is a condition kind ("ha": whatever rows
 * carry it), "*", or a row with a condition among the selected expectations. With the matrix's
 * rows, a row of a component that is not selected says so. Throws E_POLICY
 * "file:line:col: conditions[i]: ..." (or "--condition: ...").
 */
export function checkPolicyRows(
  policy: Policy,
  expectations: readonly Pick<Expectation, 'state' | 'condition' | 'component' | 'ref'>[],
  matrixRows: readonly Pick<MatrixRow, 'id' | 'component'>[] = [],
): void {
  const selected = new Map(expectations.map((expectation) => [expectation.ref.rowId, expectation]));
  // A condition is either the document's conditional state or a condition the importer read from the row's prose.
  const hasCondition = (expectation: Pick<Expectation, 'state' | 'condition'>): boolean => typeof expectation.state !== 'string' || expectation.condition !== undefined;
  const conditional = [...new Set(expectations.filter(hasCondition).map((expectation) => expectation.ref.rowId))];
  const withCondition = conditional.length > 0 ? `rows with a condition here: ${conditional.join(', ')}` : 'no selected row has a condition';
  policy.conditions.forEach((rowId, index) => {
    if (rowId === '*' || (CONDITION_KINDS as readonly string[]).includes(rowId)) return;
    const fail = (what: string, hint: string): never => {
      const where = policy.conditionsAt?.[index] ?? policy.source ?? 'policy';
      throw new PortmatrixError('E_POLICY', `${where}: conditions[${index}]: ${what}`, { hint });
    };
    const expectation = selected.get(rowId);
    if (expectation && hasCondition(expectation)) return;
    if (expectation) fail(`row "${rowId}" has no condition (documented ${expectation.state})`, `list only rows whose state is conditional; ${withCondition}`);
    const row = matrixRows.find((candidate) => candidate.id === rowId);
    if (row) fail(`row "${rowId}" belongs to component ${row.component}, which is not selected`, `add --component ${row.component}, or remove the entry`);
    fail(`unknown condition or row "${rowId}"`, `name a condition kind (${CONDITION_KINDS.join(', ')}), a matrix row id (portmatrix matrix show <matrix>), or *; ${withCondition}`);
  });
}

export interface ApplyPolicyOptions {
  policy?: Policy | undefined;
  strict: boolean;
  now: Date;
  /** Every name of a host by address (address, resolved name, target): what a waiver's host may match. */
  hostNames?: ReadonlyMap<string, readonly string[]>;
}

/** Sets each finding's severity from the defaults, the policy, --strict and the waivers. */
export function applyPolicy(findings: readonly Finding[], options: ApplyPolicyOptions): Finding[] {
  const waivers = (options.policy?.waivers ?? []).map((waiver) => ({
    waiver,
    ranges: portRanges(waiver.ports),
    host: waiver.host === undefined ? undefined : globToRegExp(waiver.host),
    expired: isExpired(waiver.expires, options.now),
  }));
  return findings.map((finding) => {
    let severity = options.policy?.severities[finding.kind] ?? DEFAULT_SEVERITIES[finding.kind];
    if (options.strict && !NOT_DEVIATIONS.has(finding.kind)) severity = 'error';
    if (finding.kind === 'conformant') return { ...finding, severity: 'off' };

    const matching = waivers.filter(
      ({ waiver, ranges, host }) =>
        rangesContain(ranges, finding.port) &&
        (waiver.transport === undefined || waiver.transport === finding.transport) &&
        (waiver.kind === undefined || waiver.kind === finding.kind) &&
        (host === undefined || (options.hostNames?.get(finding.host) ?? [finding.host]).some((name) => host.test(name))),
    );
    const chosen = matching.find((candidate) => !candidate.expired) ?? matching[0];
    if (!chosen) return { ...finding, severity };
    const { reason, ticket, expires } = chosen.waiver;
    const waiver = { reason, ...(ticket === undefined ? {} : { ticket }), expires, ...(chosen.expired ? { expired: true } : {}) };
    if (!chosen.expired) return { ...finding, severity: 'off', waiver };
    return {
      ...finding,
      severity,
      waiver,
      message: `${finding.message} (waiver${ticket === undefined ? '' : ` ${ticket}`} expired ${expires}: no longer suppressed)`,
    };
  });
}

function portRanges(spec: string): PortRange[] {
  const parsed = parsePortSpec(spec);
  return parsed.ok ? parsed.ranges : [];
}

function isExpired(expires: string, now: Date): boolean {
  const [year, month, day] = expires.split('-').map(Number);
  const endOfDay = Date.UTC(year ?? 0, (month ?? 1) - 1, (day ?? 1) + 1);
  return now.getTime() >= endOfDay;
}

/** Shell-style glob over the whole host text: "*" any run of characters, "?" one character. */
function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

const SEVERITY_RANK: Record<Severity, number> = { off: 0, notice: 1, warning: 2, error: 3 };
const FAIL_ON_RANK: Record<FailOn, number> = { never: Number.POSITIVE_INFINITY, notice: 1, warning: 2, error: 3 };

/** True when a finding of this severity makes the run fail at the --fail-on level. */
export function failsAt(severity: Severity, failOn: FailOn): boolean {
  return severity !== 'off' && SEVERITY_RANK[severity] >= FAIL_ON_RANK[failOn];
}

/**
 * With hosts that were not up: 3 (not judged) when one of them is at error, the default; at a
 * lower severity (a policy's choice) it counts at --fail-on like any finding.
 */
export function exitCodeWithHostFindings(hostFindings: readonly Pick<HostFinding, 'severity'>[], failOn: FailOn, findingsExitCode: 0 | 1): 0 | 1 | 3 {
  if (hostFindings.some((finding) => finding.severity === 'error')) return EXIT_HOST_NOT_JUDGED;
  return findingsExitCode === 1 || hostFindings.some((finding) => failsAt(finding.severity, failOn)) ? 1 : 0;
}

/** 0 conformant at the chosen level, 1 findings at or above it. */
export function exitCodeFor(findings: readonly Finding[], failOn: FailOn): 0 | 1 {
  return findings.some((finding) => failsAt(finding.severity, failOn)) ? 1 : 0;
}

export function compareSeverity(a: Severity, b: Severity): number {
  return SEVERITY_RANK[b] - SEVERITY_RANK[a];
}
