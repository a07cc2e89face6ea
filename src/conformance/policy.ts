/**
 * Severity policy: the defaults of design.md, --strict, and a policy file with severity
 * overrides, waivers (accepted exceptions with a reason and an expiry date) and the
 * conditions that hold on the scanned host (high availability, a feature, a role ...). Pure: the CLI reads the file.
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
 */
import { z } from 'zod';
import { PortmatrixError } from '../errors.js';
import { parsePortSpec, rangesContain } from '../model/port-range.js';
import type { PortRange } from '../model/port-range.js';
import type { Transport } from '../model/port-state.js';
import type { Expectation } from '../matrix/expectation.js';
import { CONDITION_KINDS, type MatrixRow } from '../matrix/model.js';
import { describeValue, formatProblem, locateZodIssues, offsetOfPath, parseYamlText } from '../util/yaml-location.js';
import type { TlsVersion } from '../checks/model.js';
import { DEFAULT_CERTIFICATE_EXPIRY_DAYS, DEFAULT_TLS_FLOOR } from '../defaults.js';
import { FINDING_KINDS } from './model.js';
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

/** "1.2", 1.2 or "TLSv1.2"; TLS 1.0 is "TLSv1" in OpenSSL's words. */
const tlsFloorSchema = z
  .union([z.string(), z.number()], { error: 'expected a TLS version: 1.0, 1.1, 1.2 or 1.3' })
  .transform((value, ctx) => {
    const text = String(value).replace(/^TLSv?/i, '');
    const version = ({ '1': 'TLSv1', '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' } as const)[text as '1'];
    if (version === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a TLS version: 1.0, 1.1, 1.2 or 1.3, got ${describeValue(value)}` });
      return z.NEVER;
    }
    return version;
  });

const findingKindSchema = z.enum(FINDING_KINDS as [FindingKind, ...FindingKind[]]);
/** What `severities` may set: every finding kind, and a host that was not up (src/conformance/model.ts HostFinding). */
const POLICY_KINDS: readonly PolicyKind[] = [...FINDING_KINDS, 'host-not-up'];
const severityKindSchema = z.enum(POLICY_KINDS as [PolicyKind, ...PolicyKind[]]);
const severitySchema = z.enum(['error', 'warning', 'notice', 'off']);

const isoDate = z
  .string({ error: (issue) => `expected a date YYYY-MM-DD, got ${describeValue(issue.input)}` })
  .refine((value) => isValidDate(value), { error: (issue) => `expected a real date YYYY-MM-DD, got ${describeValue(issue.input)}` });

const portsSchema = z
  .union([z.number(), z.string()], { error: 'expected a port or port list ("8080", "5060-5061")' })
  .transform((value) => String(value))
  .superRefine((value, ctx) => {
    const parsed = parsePortSpec(value);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

const waiverSchema = z.strictObject({
  port: portsSchema,
  transport: z.enum(['tcp', 'udp']).optional(),
  host: z.string().min(1).optional(),
  kind: findingKindSchema.optional(),
  reason: z.string().trim().min(1, 'a waiver needs a reason'),
  ticket: z.union([z.string(), z.number()]).transform((value) => String(value)).optional(),
  expires: isoDate,
});

export const policyFileSchema = z.strictObject({
  severities: z
    .partialRecord(severityKindSchema, severitySchema)
    .optional()
    .superRefine((severities, ctx) => {
      if (severities?.conformant !== undefined && severities.conformant !== 'off') {
        ctx.addIssue({ code: 'custom', path: ['conformant'], message: 'conformant findings are never deviations; their severity is always off' });
      }
    }),
  waivers: z.array(waiverSchema).optional(),
  conditions: z.array(z.string().min(1)).optional(),
  checks: z
    .strictObject({
      tlsFloor: tlsFloorSchema.optional(),
      certificateExpiryDays: z.int({ error: 'expected a whole number of days' }).min(0).max(3650).optional(),
    })
    .optional(),
});

function isValidDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Parses and checks a policy file's text; `file` only appears in messages. Throws E_POLICY "file:line:col: ...". */
export function parsePolicyText(text: string, file: string): Policy {
  const parsed = parseYamlText(text, file);
  if (!parsed.ok) {
    throw new PortmatrixError('E_POLICY', formatProblem(parsed.problem, parsed.where), parsed.more > 0 ? { hint: `${parsed.more} more problems after this one` } : {});
  }
  const { data, doc, where } = parsed.parsed;
  // An empty file is an empty policy: the defaults.
  const result = policyFileSchema.safeParse(data ?? {});
  if (!result.success) {
    const problems = locateZodIssues(result.error.issues, data, doc, policyFileSchema).map((problem) =>
      // A severities key is a finding kind: say so rather than "unknown field".
      problem.path[0] === 'severities' && problem.path.length === 2 && problem.message.startsWith('unknown field')
        ? { ...problem, message: `unknown finding kind "${String(problem.path[1])}" (kinds: ${POLICY_KINDS.join(', ')})` }
        : problem,
    );
    const first = problems[0];
    if (!first) throw new Error('zod reported a failure without issues');
    const more = problems.length - 1;
    throw new PortmatrixError('E_POLICY', formatProblem(first, where), more > 0 ? { hint: `${more} more problem${more === 1 ? '' : 's'} after this one` } : {});
  }
  const file_ = result.data;
  return {
    source: file,
    severities: file_.severities ?? {},
    waivers: (file_.waivers ?? []).map(({ port, ...rest }) => ({ ports: port, ...rest })),
    conditions: file_.conditions ?? [],
    conditionsAt: (file_.conditions ?? []).map((_, index) => where(offsetOfPath(doc, ['conditions', index]))),
    ...(file_.checks ? { checks: { ...serviceThresholds(undefined), ...stripUndefined(file_.checks) } } : {}),
  };
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

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
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
