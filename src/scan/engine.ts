/**
 * The scan engine: every target in turn, TCP with scanTcp (connect or SYN) and UDP with scanUdp
 * (src/scan/probes/udp.ts) at the same time, within one socket budget taken from the
 * file-descriptor limit. The most common dark state is folded into counts. Never prints.
 */
import type { ScanCaps, UdpConfirm } from '../defaults.js';
import { countPorts, formatPortSpec, type PortRange } from '../model/port-range.js';
import { socketBudget } from './fd-limit.js';
import { detectAnswersEverything } from './answers-everything.js';
import { foldObservations } from './fold.js';
import type { HostScan, Observation } from '../model/port-state.js';
import { decideHostStatus, noRouteStatus } from './host-status.js';
import { availableProberKind, type ProberKind } from './probes/connect-prober.js';
import { scanTcp, type TcpScanStats, type TcpScanType } from './probes/tcp.js';
import { selectSecondLookPorts, takeSecondLook } from './second-look.js';
import type { ResolvedTarget } from './targets.js';
import { checkCaps } from './check-caps.js';
import type { UdpProbe } from './udp-plan.js';
import { lookupRoute } from './vantage.js';

export interface ScanOptions {
  targets: readonly ResolvedTarget[];
  /** The port plan as data: TCP ranges (walked in a seeded pseudo-random order) and the ordered UDP probes. */
  plan: ScanPlan;
  caps: ScanCaps;
  snmpCommunity?: string;
  /** Seed of the port order (repeatable runs); random when absent. */
  seed?: number;
  prober?: ProberKind;
  /** connect (default) or syn (half-open, raw sockets: the caller has checked they open). */
  tcpScanType?: TcpScanType;
  privileged?: boolean;
  /** Which silent UDP ports are confirmed at the target's ICMP rate (src/scan/probes/udp.ts). */
  udpConfirm?: UdpConfirm;
  /** nmap's -Pn: scan a host without a route and judge a silent host as up (status.assumed). */
  assumeUp?: boolean;
}

export interface ScanPlan {
  tcp: readonly PortRange[];
  udp: readonly UdpProbe[];
  /** With a matrix: the documented TCP listeners; an open port outside them gets a second look before it is reported. */
  documentedTcpListeners?: readonly PortRange[];
}

export interface ScanProgress {
  hostIndex: number;
  hostCount: number;
  address: string;
  portsDone: number;
  portsTotal: number;
  openSoFar: number;
  ratePerSecond: number;
  /** null until there is a rate to extrapolate from; while UDP ports are confirmed, at least their time at the target's ICMP rate. */
  etaMs: number | null;
  /** Silent UDP ports still being confirmed one ICMP answer at a time (0 outside that phase). */
  udpConfirming: number;
}

export interface ScanHooks {
  signal?: AbortSignal;
  onProgress?: (progress: ScanProgress) => void;
}

export interface EngineDetails {
  tcpScanType: TcpScanType;
  prober: ProberKind;
  /** TCP sockets in flight at most: the cap, bounded by the file-descriptor budget. */
  effectiveTcpConcurrency: number;
  udpConcurrency: number;
  tcp: Record<string, TcpScanStats>;
  /** Per host address: the open ports looked at again before the report, and what it cost. */
  secondLook: Record<string, { ports: number; flapping: number; durationMs: number }>;
}

const PROGRESS_INTERVAL_MS = 200;

/** Splits the caps between TCP and UDP when both run: UDP is paced by the target's ICMP limit, not by width. */
function splitCaps(caps: ScanCaps, budget: number, udp: boolean): { tcp: ScanCaps; udp: ScanCaps; tcpWindow: number } {
  const total = Math.max(1, Math.min(caps.maxConcurrency, budget));
  const udpWindow = udp ? Math.max(1, Math.min(64, Math.floor(total / 4))) : 0;
  const tcpWindow = Math.max(1, total - udpWindow);
  const udpRate = udp && caps.maxRatePerSecond > 0 ? Math.max(1, Math.floor(caps.maxRatePerSecond / 4)) : caps.maxRatePerSecond;
  const tcpRate = udp && caps.maxRatePerSecond > 0 ? Math.max(1, caps.maxRatePerSecond - udpRate) : caps.maxRatePerSecond;
  return {
    tcp: { ...caps, maxConcurrency: tcpWindow, maxRatePerSecond: tcpRate },
    udp: { ...caps, maxConcurrency: udpWindow, maxRatePerSecond: udpRate },
    tcpWindow,
  };
}

/** What one scan keeps across its hosts. */
interface EngineRun {
  readonly options: ScanOptions;
  readonly hooks: ScanHooks;
  readonly split: ReturnType<typeof splitCaps>;
  readonly udpScanner: typeof import('./probes/udp.js') | null;
  readonly tcpPortCount: number;
  /** Ports per host, TCP and UDP. */
  readonly perHost: number;
  readonly details: EngineDetails;
  readonly progress: { started: number; portsDone: number; openSoFar: number; lastReport: number };
}

/** What a host's progress reports and observations go through. */
interface HostProgress {
  report(force: boolean): void;
  onObservation(observation: Observation): void;
  onUdpConfirm(progress: { pendingPorts: number; etaMs: number }): void;
}

export async function scanHosts(
  options: ScanOptions,
  hooks: ScanHooks = {},
): Promise<{ hosts: HostScan[]; complete: boolean; details: EngineDetails }> {
  checkCaps(options.caps);
  const run = await startRun(options, hooks);
  const hosts: HostScan[] = [];
  let complete = true;
  for (const [hostIndex, target] of options.targets.entries()) {
    if (hooks.signal?.aborted) {
      complete = false;
      break;
    }
    const host = await scanHost(run, target, hostIndex);
    hosts.push(host);
    if (!host.complete) {
      complete = false;
      break;
    }
  }
  return { hosts, complete, details: run.details };
}

async function startRun(options: ScanOptions, hooks: ScanHooks): Promise<EngineRun> {
  const runUdp = options.plan.udp.length > 0;
  // Loaded only when UDP is scanned: a TCP-only run does not pay for the payload builders.
  const udpScanner = runUdp ? await import('./probes/udp.js') : null;
  const split = splitCaps(options.caps, socketBudget(), runUdp);
  const tcpPortCount = countPorts(options.plan.tcp);
  const details: EngineDetails = {
    tcpScanType: options.tcpScanType ?? 'connect',
    prober: options.tcpScanType === 'syn' ? 'raw-syn' : (options.prober ?? availableProberKind()),
    effectiveTcpConcurrency: split.tcpWindow,
    udpConcurrency: runUdp ? split.udp.maxConcurrency : 0,
    tcp: {},
    secondLook: {},
  };
  const progress = { started: performance.now(), portsDone: 0, openSoFar: 0, lastReport: 0 };
  return { options, hooks, split, udpScanner, tcpPortCount, perHost: tcpPortCount + options.plan.udp.length, details, progress };
}

function trackProgress(run: EngineRun, target: ResolvedTarget, hostIndex: number): HostProgress {
  const { options, hooks, progress } = run;
  const portsTotal = run.perHost * options.targets.length;
  let udpConfirm: { pendingPorts: number; etaMs: number } | null = null;
  const report = (force: boolean): void => {
    const now = performance.now();
    if (!hooks.onProgress || (!force && now - progress.lastReport < PROGRESS_INTERVAL_MS)) return;
    progress.lastReport = now;
    const elapsedSeconds = (now - progress.started) / 1000;
    const ratePerSecond = elapsedSeconds > 0 ? progress.portsDone / elapsedSeconds : 0;
    // A port rate says nothing about UDP confirmation, which goes at the target's ICMP rate.
    const rateEtaMs = ratePerSecond > 0 ? ((portsTotal - progress.portsDone) / ratePerSecond) * 1000 : null;
    const etaMs = udpConfirm && udpConfirm.pendingPorts > 0 ? Math.max(rateEtaMs ?? 0, udpConfirm.etaMs) : rateEtaMs;
    hooks.onProgress({
      hostIndex,
      hostCount: options.targets.length,
      address: target.address,
      portsDone: progress.portsDone,
      portsTotal,
      openSoFar: progress.openSoFar,
      ratePerSecond,
      etaMs,
      udpConfirming: udpConfirm?.pendingPorts ?? 0,
    });
  };
  return {
    report,
    onObservation(observation) {
      progress.portsDone++;
      if (observation.state === 'open') progress.openSoFar++;
      report(false);
    },
    onUdpConfirm(confirm) {
      udpConfirm = confirm;
      report(false);
    },
  };
}

async function scanHost(run: EngineRun, target: ResolvedTarget, hostIndex: number): Promise<HostScan> {
  const { options, hooks } = run;
  const progress = trackProgress(run, target, hostIndex);
  const plan = { tcp: formatPortSpec(options.plan.tcp), udp: formatPortSpec(options.plan.udp.map(({ port }) => ({ start: port, end: port }))) };
  // No route: every probe would fail at once and say nothing about the host; none is sent.
  if (!options.assumeUp && 'error' in (await lookupRoute(target.address, target.family))) {
    run.progress.portsDone += run.perHost;
    progress.report(true);
    return { ...identityOf(target), plan: { tcp: '', udp: '' }, observations: [], folded: [], complete: true, status: noRouteStatus() };
  }
  const [tcp, udp] = await Promise.all([runTcp(run, target, progress), runUdp(run, target, progress)]);
  if (tcp.stats) {
    run.details.tcp[target.address] = tcp.stats;
    // What actually ran, not what was asked for or expected.
    run.details.prober = tcp.stats.prober;
  }
  const judged = await lookAgain(run, target, tcp);
  // An interrupted UDP run returns what it had; only decided ports are kept.
  const { observations, folded } = foldObservations([...judged.observations, ...udp]);
  const host: HostScan = {
    ...identityOf(target),
    plan,
    observations,
    folded,
    complete: judged.complete && !hooks.signal?.aborted,
    status: decideHostStatus({ observations, folded }, { assumeUp: options.assumeUp === true }),
    ...(judged.answersEverything ? { answersEverything: judged.answersEverything } : {}),
  };
  progress.report(true);
  return host;
}

function runTcp(run: EngineRun, target: ResolvedTarget, progress: HostProgress): Promise<{ observations: Observation[]; complete: boolean; stats?: TcpScanStats }> {
  const { options, hooks } = run;
  if (run.tcpPortCount === 0) return Promise.resolve({ observations: [], complete: true });
  return scanTcp({
    address: target.address,
    family: target.family,
    ports: options.plan.tcp,
    caps: run.split.tcp,
    maxInFlight: run.split.tcpWindow,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.prober ? { prober: options.prober } : {}),
    ...(options.tcpScanType ? { scanType: options.tcpScanType } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    onObservation: progress.onObservation,
  });
}

function runUdp(run: EngineRun, target: ResolvedTarget, progress: HostProgress): Promise<Observation[]> {
  const { options, hooks } = run;
  if (!run.udpScanner) return Promise.resolve([]);
  return run.udpScanner.scanUdp({
    address: target.address,
    family: target.family,
    plan: options.plan.udp,
    caps: run.split.udp,
    snmpCommunity: options.snmpCommunity ?? 'public',
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    ...(options.privileged === undefined ? {} : { privileged: options.privileged }),
    ...(options.udpConfirm ? { confirm: options.udpConfirm } : {}),
    onConfirmProgress: progress.onUdpConfirm,
    onObservation: progress.onObservation,
  });
}

/**
 * After the main pass: a host that answers on (nearly) every port gets one host-level finding and
 * nothing is looked at twice; otherwise every open port outside the documented listeners is
 * probed once more before it can be reported (src/scan/second-look.ts).
 */
async function lookAgain(
  run: EngineRun,
  target: ResolvedTarget,
  tcp: { observations: Observation[]; complete: boolean; stats?: TcpScanStats },
): Promise<{ observations: Observation[]; complete: boolean; answersEverything: ReturnType<typeof detectAnswersEverything> }> {
  const { options, hooks } = run;
  const complete = tcp.complete && !hooks.signal?.aborted;
  const answersEverything =
    complete && tcp.stats
      ? detectAnswersEverything({ observations: tcp.observations, scannedPorts: run.tcpPortCount, invalidAnswers: tcp.stats.raw?.invalid ?? 0, probesSent: tcp.stats.probesSent })
      : null;
  const recheck = complete && !answersEverything && options.plan.documentedTcpListeners ? selectSecondLookPorts(tcp.observations, options.plan.documentedTcpListeners) : [];
  if (recheck.length === 0) return { observations: tcp.observations, complete, answersEverything };
  const look = await takeSecondLook(tcp.observations, {
    address: target.address,
    family: target.family,
    ports: recheck,
    caps: run.split.tcp,
    maxInFlight: run.split.tcpWindow,
    scanType: run.details.tcpScanType,
    ...(options.prober ? { prober: options.prober } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  });
  run.details.secondLook[target.address] = { ports: look.ports, flapping: look.flapping, durationMs: look.durationMs };
  return { observations: look.observations, complete: complete && look.complete && !hooks.signal?.aborted, answersEverything };
}

function identityOf(target: ResolvedTarget): Pick<HostScan, 'target' | 'address' | 'family' | 'name'> {
  return { target: target.target, address: target.address, family: target.family, ...(target.name === undefined ? {} : { name: target.name }) };
}
