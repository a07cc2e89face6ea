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

export async function scanHosts(
  options: ScanOptions,
  hooks: ScanHooks = {},
): Promise<{ hosts: HostScan[]; complete: boolean; details: EngineDetails }> {
  checkCaps(options.caps);
  const runUdp = options.plan.udp.length > 0;
  // Loaded only when UDP is scanned: a TCP-only run does not pay for the payload builders.
  const udpScanner = runUdp ? await import('./probes/udp.js') : null;
  const split = splitCaps(options.caps, socketBudget(), runUdp);
  const tcpPortCount = countPorts(options.plan.tcp);
  const perHost = tcpPortCount + options.plan.udp.length;
  const portsTotal = perHost * options.targets.length;
  const details: EngineDetails = {
    tcpScanType: options.tcpScanType ?? 'connect',
    prober: options.tcpScanType === 'syn' ? 'raw-syn' : (options.prober ?? availableProberKind()),
    effectiveTcpConcurrency: split.tcpWindow,
    udpConcurrency: runUdp ? split.udp.maxConcurrency : 0,
    tcp: {},
    secondLook: {},
  };
  const hosts: HostScan[] = [];
  const started = performance.now();
  let portsDone = 0;
  let openSoFar = 0;
  let lastProgress = 0;
  let complete = true;

  for (const [hostIndex, target] of options.targets.entries()) {
    if (hooks.signal?.aborted) {
      complete = false;
      break;
    }
    let udpConfirm: { pendingPorts: number; etaMs: number } | null = null;
    const report = (force: boolean): void => {
      const now = performance.now();
      if (!hooks.onProgress || (!force && now - lastProgress < PROGRESS_INTERVAL_MS)) return;
      lastProgress = now;
      const elapsedSeconds = (now - started) / 1000;
      const ratePerSecond = elapsedSeconds > 0 ? portsDone / elapsedSeconds : 0;
      // A port rate says nothing about UDP confirmation, which goes at the target's ICMP rate.
      const rateEtaMs = ratePerSecond > 0 ? ((portsTotal - portsDone) / ratePerSecond) * 1000 : null;
      const etaMs = udpConfirm && udpConfirm.pendingPorts > 0 ? Math.max(rateEtaMs ?? 0, udpConfirm.etaMs) : rateEtaMs;
      hooks.onProgress({
        hostIndex,
        hostCount: options.targets.length,
        address: target.address,
        portsDone,
        portsTotal,
        openSoFar,
        ratePerSecond,
        etaMs,
        udpConfirming: udpConfirm?.pendingPorts ?? 0,
      });
    };
    const onObservation = (observation: Observation): void => {
      portsDone++;
      if (observation.state === 'open') openSoFar++;
      report(false);
    };
    const plan = { tcp: formatPortSpec(options.plan.tcp), udp: formatPortSpec(options.plan.udp.map(({ port }) => ({ start: port, end: port }))) };
    // No route: every probe would fail at once and say nothing about the host; none is sent.
    if (!options.assumeUp && 'error' in (await lookupRoute(target.address, target.family))) {
      hosts.push({ ...identityOf(target), plan: { tcp: '', udp: '' }, observations: [], folded: [], complete: true, status: noRouteStatus() });
      portsDone += perHost;
      report(true);
      continue;
    }
    const tcpRun =
      tcpPortCount > 0
        ? scanTcp({
            address: target.address,
            family: target.family,
            ports: options.plan.tcp,
            caps: split.tcp,
            maxInFlight: split.tcpWindow,
            ...(options.seed === undefined ? {} : { seed: options.seed }),
            ...(options.prober ? { prober: options.prober } : {}),
            ...(options.tcpScanType ? { scanType: options.tcpScanType } : {}),
            ...(hooks.signal ? { signal: hooks.signal } : {}),
            onObservation,
          })
        : Promise.resolve({ observations: [], complete: true, stats: undefined });
    const udpRun = udpScanner
      ? udpScanner.scanUdp({
          address: target.address,
          family: target.family,
          plan: options.plan.udp,
          caps: split.udp,
          snmpCommunity: options.snmpCommunity ?? 'public',
          ...(hooks.signal ? { signal: hooks.signal } : {}),
          ...(options.privileged === undefined ? {} : { privileged: options.privileged }),
          ...(options.udpConfirm ? { confirm: options.udpConfirm } : {}),
          onConfirmProgress: (progress) => {
            udpConfirm = progress;
            report(false);
          },
          onObservation,
        })
      : Promise.resolve([]);
    const [tcp, udp] = await Promise.all([tcpRun, udpRun]);
    if (tcp.stats) {
      details.tcp[target.address] = tcp.stats;
      // What actually ran, not what was asked for or expected.
      details.prober = tcp.stats.prober;
    }
    let hostComplete = tcp.complete && !hooks.signal?.aborted;
    let tcpObservations = tcp.observations;
    // A host that answers on (nearly) every port: one host-level finding, and nothing to look at twice.
    const answersEverything =
      hostComplete && tcp.stats
        ? detectAnswersEverything({ observations: tcpObservations, scannedPorts: tcpPortCount, invalidAnswers: tcp.stats.raw?.invalid ?? 0, probesSent: tcp.stats.probesSent })
        : null;
    const recheck = hostComplete && !answersEverything && options.plan.documentedTcpListeners ? selectSecondLookPorts(tcpObservations, options.plan.documentedTcpListeners) : [];
    if (recheck.length > 0) {
      const look = await takeSecondLook(tcpObservations, {
        address: target.address,
        family: target.family,
        ports: recheck,
        caps: split.tcp,
        maxInFlight: split.tcpWindow,
        scanType: details.tcpScanType,
        ...(options.prober ? { prober: options.prober } : {}),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
      });
      details.secondLook[target.address] = { ports: look.ports, flapping: look.flapping, durationMs: look.durationMs };
      tcpObservations = look.observations;
      hostComplete &&= look.complete && !hooks.signal?.aborted;
    }
    // An interrupted UDP run returns what it had; only decided ports are kept.
    const { observations, folded } = foldObservations([...tcpObservations, ...udp]);
    hosts.push({
      ...identityOf(target),
      plan,
      observations,
      folded,
      complete: hostComplete,
      status: decideHostStatus({ observations, folded }, { assumeUp: options.assumeUp === true }),
      ...(answersEverything ? { answersEverything } : {}),
    });
    report(true);
    if (!hostComplete) {
      complete = false;
      break;
    }
  }
  return { hosts, complete, details };
}

function identityOf(target: ResolvedTarget): Pick<HostScan, 'target' | 'address' | 'family' | 'name'> {
  return { target: target.target, address: target.address, family: target.family, ...(target.name === undefined ? {} : { name: target.name }) };
}
