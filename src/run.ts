/**
 * One run of the pipeline, for every caller (the CLI's scan and demo, a fleet audit once per
 * host, tests): typed options -> targets and port plan -> scan -> service checks -> result -> conformance ->
 * `{ result, hosts, exitCode }`. prepareRun checks and loads everything before any packet is
 * sent; executeRun scans and never prints, exits or throws for a network outcome; an
 * interrupted run returns what it has, marked incomplete.
 */
import type { ChecksMode, ChecksSection } from './checks/model.js';
import {
  CHECK_LIMITS,
  DEFAULT_CHECKS_MODE,
  DEFAULT_MAX_HOSTS,
  DEFAULT_PROFILE,
  DEFAULT_SNMP_COMMUNITY,
  DEFAULT_UDP_CONFIRM,
  PROFILES,
  type CheckLimits,
  type ProfileName,
  type ScanCaps,
  type UdpConfirm,
} from './defaults.js';
import { PortmatrixError } from './errors.js';
import { documentedPortRanges, documentedTcpListeners, documentedUdpPorts, udpPortHints } from './matrix/documented-ports.js';
import { countPorts, formatPortSpec } from './model/port-range.js';
import type { HostScan } from './model/port-state.js';
import { buildScanResult } from './result/build.js';
import type { ScanResult } from './result/model.js';
import { attachConformance, prepareConformance, type ConformanceCheck, type ConformanceRequest } from './run/conformance-check.js';
import { decideExitCode, type RunExitCode } from './run/exit-code.js';
import { decideHostStatus, type HostVerdict } from './run/host-status.js';
import type { RunParameters } from './run/parameters.js';
import { scanHosts, type EngineDetails, type ScanOptions, type ScanPlan, type ScanProgress } from './scan/engine.js';
import { checkCaps } from './scan/check-caps.js';
import { readSoftFdLimit } from './scan/fd-limit.js';
import { resolvePortSelection, type PortSelection } from './scan/port-plan.js';
import { decideScanType, detectPrivileges, type Privileges, type ScanTypeDecision, type ScanTypeRequest } from './scan/privileges.js';
import { nativeProberProblem, type ProberKind } from './scan/probes/connect-prober.js';
import { resolveTargets, type NameResolver, type ResolvedTarget } from './scan/targets.js';
import { planUdpPorts, planUdpProbes } from './scan/udp-plan.js';
import { findSourceAddress, readVantageHostname } from './scan/vantage.js';

/** auto: SYN where this process can, else connect (nmap's default as root and as a user). */
export type ScanMode = ScanTypeRequest;

export interface RunOptions {
  /**
   * Addresses, host names, CIDR blocks or comma lists, as the user wrote them (recorded in the
   * result), or hosts already resolved (a fleet inventory's).
   */
  targets: readonly (string | ResolvedTarget)[];
  /** Largest number of hosts the targets may expand to. Default DEFAULT_MAX_HOSTS. */
  maxHosts?: number;
  /** TCP ports. Default 'all'. */
  ports?: PortSelection;
  /** UDP ports; 'matrix' is the documented UDP ports plus the common list. Default 'matrix'. */
  udp?: PortSelection;
  /** Speed and safety caps. Default DEFAULT_PROFILE (gentle: safe for a production IP500 V2). */
  profile?: ProfileName;
  /** Caps that override the profile's, one by one. */
  caps?: Partial<ScanCaps>;
  /** Seed of the pseudo-random port order; random when absent (the seed used is recorded). */
  seed?: number;
  /** TCP scan type. Default 'auto'; an explicit 'syn' that cannot run falls back to connect with a note. */
  scanMode?: ScanMode;
  prober?: ProberKind;
  snmpCommunity?: string;
  /** Which silent UDP ports are confirmed at the target's ICMP rate. Default DEFAULT_UDP_CONFIRM. */
  udpConfirm?: UdpConfirm;
  /** nmap's -Pn: probe a host without a route and judge a silent host as up (status.assumed). Default false. */
  assumeUp?: boolean;
  /** Service checks after the port scan (TLS, HTTPS, SSH, SIP ... on open ports). Default DEFAULT_CHECKS_MODE. */
  checks?: ChecksMode;
  /** Check the hosts against a port matrix; without it the run only observes. */
  conformance?: ConformanceRequest;
  /** What the result records as the command (scan, demo, audit ...). Default 'scan'. */
  command?: string;
  /** How host names are looked up (default: the system resolver); tests map their own names. */
  resolve?: NameResolver;
}

export interface RunHooks {
  /** Abort: the run stops and returns what it has, marked incomplete; a string reason is named (abort('SIGTERM') exits 143). */
  signal?: AbortSignal;
  onProgress?: (progress: ScanProgress) => void;
}

/** A run checked and loaded, ready to send packets. */
export interface PreparedRun {
  options: RunOptions;
  targets: ResolvedTarget[];
  plan: ScanPlan;
  profile: ProfileName;
  caps: ScanCaps;
  seed: number;
  maxHosts: number;
  privileges: Privileges;
  scanType: ScanTypeDecision;
  checksMode: ChecksMode;
  /** The profile's service-check limits, never more at once than the scan's own concurrency cap. */
  checkLimits: CheckLimits;
  check?: ConformanceCheck;
  /** One-line notes for the user (e.g. why --syn fell back to a connect scan); the caller shows them. */
  notes: string[];
}

export interface RunOutcome {
  result: ScanResult;
  hosts: HostVerdict[];
  exitCode: RunExitCode;
}

/** Checks every option and loads matrix, policy and targets. Throws PortmatrixError (exit 2) before any packet is sent. */
export async function prepareRun(options: RunOptions): Promise<PreparedRun> {
  const { profile, caps } = resolveCaps(options.profile ?? DEFAULT_PROFILE, options.caps ?? {});
  const check = options.conformance ? await prepareConformance(options.conformance) : undefined;
  const expectations = check?.expectations ?? [];
  const tcp = resolvePortSelection(options.ports ?? 'all', '--ports', documentedPortRanges(expectations, 'tcp'));
  const udpPorts = planUdpPorts(options.udp ?? 'matrix', documentedUdpPorts(expectations));
  if (countPorts(tcp) === 0 && udpPorts.length === 0) {
    throw new PortmatrixError('E_USAGE', 'nothing to scan: --ports none and --udp none', {
      hint: 'give --ports all (the default) or a port list, or --udp matrix (the default) or a port list',
    });
  }
  const maxHosts = options.maxHosts ?? DEFAULT_MAX_HOSTS;
  const targets = await resolveRunTargets(options.targets, { maxHosts, ...(options.resolve ? { resolve: options.resolve } : {}) });
  const privileges = detectPrivileges();
  const scanType = decideScanType({ request: options.scanMode ?? 'auto', privileges });
  return {
    options,
    targets,
    plan: {
      tcp,
      udp: planUdpProbes(udpPorts, udpPortHints(expectations, udpPorts)),
      ...(expectations.length > 0 ? { documentedTcpListeners: documentedTcpListeners(expectations) } : {}),
    },
    profile,
    caps,
    seed: options.seed ?? Math.floor(Math.random() * 2 ** 32),
    maxHosts,
    privileges,
    scanType,
    checksMode: options.checks ?? DEFAULT_CHECKS_MODE,
    checkLimits: limitChecks(profile, caps),
    ...(check ? { check } : {}),
    notes: describeNotes(scanType, options.prober, countPorts(tcp) > 0),
  };
}

/**
 * Scans a prepared run, then (after a whole scan) checks the services, builds the result,
 * checks conformance, and decides host status and exit code.
 */
export async function executeRun(prepared: PreparedRun, hooks: RunHooks = {}): Promise<RunOutcome> {
  const startedAt = new Date();
  const scan = await scanHosts(describeScan(prepared), {
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
  });
  // Service checks only after a whole scan: an interrupted run writes what it has at once, and
  // checks cut short by a stop saw nothing worth reporting (the ports stay, the checks go).
  const checked = scan.complete && prepared.checksMode !== 'none' && !hooks.signal?.aborted ? await checkRunServices(prepared, scan.hosts, hooks.signal) : undefined;
  const complete = scan.complete && !hooks.signal?.aborted;
  const finishedAt = new Date();
  const sourceAddresses = (await Promise.all(prepared.targets.map((target) => findSourceAddress(target.address, target.family)))).filter(
    (address): address is string => address !== null,
  );
  const built = buildScanResult({
    startedAt,
    finishedAt,
    complete,
    ...(complete ? {} : { incompleteReason: `${describeAbort(hooks.signal)}${scan.complete ? ' during the service checks' : ''}` }),
    vantage: { hostname: readVantageHostname(), sourceAddresses },
    parameters: { ...describeParameters(prepared, scan.details) },
    hosts: scan.hosts,
    ...(complete && checked ? { checks: checked } : {}),
  });
  const result = prepared.check ? attachConformance(prepared.check, built) : built;
  const hosts = result.hosts.map(decideHostStatus);
  return { result, hosts, exitCode: decideExitCode(result, hooks.signal?.reason) };
}

function describeScan(prepared: PreparedRun): ScanOptions {
  const { options, privileges } = prepared;
  return {
    targets: prepared.targets,
    plan: prepared.plan,
    caps: prepared.caps,
    snmpCommunity: options.snmpCommunity ?? DEFAULT_SNMP_COMMUNITY,
    // Raw ICMP codes (admin-prohibited vs port-unreachable) need CAP_NET_RAW and the optional raw-socket module.
    privileged: privileges.capNetRaw && privileges.rawSocketModule,
    seed: prepared.seed,
    tcpScanType: prepared.scanType.scanType,
    udpConfirm: options.udpConfirm ?? DEFAULT_UDP_CONFIRM,
    assumeUp: options.assumeUp === true,
    ...(options.prober ? { prober: options.prober } : {}),
  };
}

/** The service checks stage (src/checks/), loaded only when it runs. */
async function checkRunServices(prepared: PreparedRun, hosts: HostScan[], signal: AbortSignal | undefined): Promise<ChecksSection> {
  const { checkServices } = await import('./checks/run.js');
  return checkServices({
    mode: prepared.checksMode,
    hosts,
    expectations: prepared.check?.expectations ?? [],
    limits: prepared.checkLimits,
    ...(signal ? { signal } : {}),
  });
}

function describeParameters(prepared: PreparedRun, details: EngineDetails): RunParameters {
  const { options, plan, privileges } = prepared;
  return {
    command: options.command ?? 'scan',
    targets: options.targets.map((target) => (typeof target === 'string' ? target : target.address)),
    profile: prepared.profile,
    caps: prepared.caps,
    ports: formatPortSpec(plan.tcp),
    udp: formatPortSpec(plan.udp.map(({ port }) => ({ start: port, end: port }))),
    maxHosts: prepared.maxHosts,
    seed: prepared.seed,
    scanType: prepared.scanType.scanType,
    privileges,
    prober: details.prober,
    effectiveTcpConcurrency: details.effectiveTcpConcurrency,
    udpConcurrency: details.udpConcurrency,
    udpScanned: plan.udp.length > 0,
    udpConfirm: options.udpConfirm ?? DEFAULT_UDP_CONFIRM,
    assumeUp: options.assumeUp === true,
    udpRawIcmp: privileges.capNetRaw && privileges.rawSocketModule,
    fdSoftLimit: readSoftFdLimit(),
    tcpTiming: details.tcp,
    checks: prepared.checksMode,
    checkLimits: prepared.checkLimits,
    secondLook: details.secondLook,
  };
}

/** prepareRun then executeRun. */
export async function run(options: RunOptions, hooks: RunHooks = {}): Promise<RunOutcome> {
  return executeRun(await prepareRun(options), hooks);
}

function limitChecks(profile: ProfileName, caps: ScanCaps): CheckLimits {
  const limits = CHECK_LIMITS[profile];
  return { concurrency: Math.min(limits.concurrency, caps.maxConcurrency), timeoutMs: limits.timeoutMs };
}

/** Specs are resolved (every host once); hosts given resolved pass as they are. */
async function resolveRunTargets(targets: RunOptions['targets'], options: { maxHosts: number; resolve?: NameResolver }): Promise<ResolvedTarget[]> {
  const specs = targets.filter((target): target is string => typeof target === 'string');
  const resolved = specs.length > 0 || targets.length === 0 ? await resolveTargets(specs, options) : [];
  return [...resolved, ...targets.filter((target): target is ResolvedTarget => typeof target !== 'string')];
}

/** One-line notes, said once the input is good: why --syn fell back, why the connect scan runs on net.Socket. */
function describeNotes(scanType: ScanTypeDecision, prober: ProberKind | undefined, scansTcp: boolean): string[] {
  const nativeProblem = scanType.scanType === 'connect' && scansTcp && prober !== 'net-socket' ? nativeProberProblem() : undefined;
  return [...(scanType.note ? [scanType.note] : []), ...(nativeProblem ? [`${nativeProblem}; this scan uses net.Socket (slower)`] : [])];
}

/**
 * The profile's caps, then each override, held to VALUE_RANGES (a floor above its ceiling is bad
 * input too). `name` spells a cap in messages: `caps.x` for the library, the flag for the CLI.
 */
export function resolveCaps(
  profile: string,
  overrides: Partial<ScanCaps>,
  name?: (key: keyof ScanCaps) => string,
): { profile: ProfileName; caps: ScanCaps } {
  if (!Object.hasOwn(PROFILES, profile)) {
    throw new PortmatrixError('E_USAGE', `--profile ${JSON.stringify(profile)} is not a profile`, { hint: `use one of ${Object.keys(PROFILES).join(', ')}` });
  }
  const profileName = profile as ProfileName;
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const caps: ScanCaps = { ...PROFILES[profileName], ...defined };
  checkCaps(caps, name);
  return { profile: profileName, caps };
}

/** "interrupted by SIGTERM" when the abort names its cause (a stop signal's name, a caller's words). */
function describeAbort(signal: AbortSignal | undefined): string {
  return typeof signal?.reason === 'string' ? `interrupted by ${signal.reason}` : 'interrupted';
}
