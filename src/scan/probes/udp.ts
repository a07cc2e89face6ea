/**
 * UDP scan of one host. One connected socket per probe, so that an ICMP port unreachable comes
 * back as ECONNREFUSED (closed) without privileges; a datagram back is open; silence after the
 * retries is open|filtered. With root and the raw-socket module, the ICMP type and code are
 * read directly (icmp-listener.ts), so admin-prohibited is filtered, not a guess from an errno.
 *
 * The hard part is the target's ICMP rate limit: Linux answers one scanning host with about six
 * port unreachables at once, then one per second (net.ipv4.icmp_ratelimit = 1000 ms, a token
 * bucket of 6 tokens). A closed port probed while the bucket is empty looks exactly like a
 * filtered one. So the scan spends the budget on what matters:
 *   1. sweep: every port once, documented ports first (they get the initial burst), services
 *      with a payload next; open services answer with data, which costs no ICMP token;
 *   2. confirm: silent ports are probed again one token at a time, in the same priority, each
 *      probe sent only when the modelled bucket holds a token, so a closed port's answer can
 *      come back; silence then means no answer even though one could have been sent. Which
 *      ports are confirmed is the UdpConfirm rule: by default every silent port when at most
 *      AUTO_CONFIRM_MAX_SILENT are silent after the sweep (a closed one costs the target's
 *      interval, ~1 s: the physical floor, N closed ports need ~N - 6 s for any scanner),
 *      else the documented ones only;
 *   3. a port still silent is open|filtered, and says whether it was confirmed or why not.
 * Targets with many ICMP answers during the sweep get plain retries with backoff, until a retry
 * draws answers from ports silent before: a limit faster than IPv4's after all (Linux IPv6:
 * 100 ms), measured from the sweep and confirmed at its pace.
 */
import { setMaxListeners } from 'node:events';
import { DEFAULT_UDP_CONFIRM, type ScanCaps, type UdpConfirm } from '../../defaults.js';
import { openIcmpListener } from '../icmp-listener.js';
import type { Observation } from '../../model/port-state.js';
import { payloadFor } from '../payloads/index.js';
import type { UdpProbe } from '../udp-plan.js';
import { computeTimeoutMs, createRttEstimator, createTokenBucket, takeToken, updateRtt, type RttEstimator, type TokenBucket } from '../timing.js';
import { confirmOneTokenAtATime, confirmScope, describeProbe, whyUnconfirmed } from './udp-confirm.js';
import { probeOnce, sleep, type PortTask, type ProbeEnvironment, type ProbeOutcome, type ProbeTarget } from './udp-probe.js';

export interface UdpScanOptions extends ProbeTarget {
  /** Which ports, with which payload, in which order (src/scan/udp-plan.ts planUdpProbes). */
  plan: readonly UdpProbe[];
  caps: ScanCaps;
  signal?: AbortSignal;
  privileged?: boolean;
  onObservation?: (observation: Observation) => void;
  /** Which silent ports are confirmed one ICMP token at a time (default DEFAULT_UDP_CONFIRM). */
  confirm?: UdpConfirm;
  /** The target's ICMP rate limit as modelled (Linux defaults when absent). */
  icmpLimit?: { intervalMs: number; burst: number };
  /** While confirming: silent ports still to confirm, and the time that takes at the target's ICMP rate. */
  onConfirmProgress?: (progress: { pendingPorts: number; etaMs: number }) => void;
}

/** Linux: net.ipv4.icmp_ratelimit (1000 ms per message) and XRLIM_BURST_FACTOR (6). */
export const LINUX_ICMP_LIMIT = { intervalMs: 1000, burst: 6 } as const;
/** A probe's timeout doubles with each attempt (backoff), up to the caps' maximum. */
const BACKOFF_FACTOR = 2;
/** Local resource errors (EMFILE, ENOBUFS ...) are retried after this pause, a bounded number of times. */
const LOCAL_RETRY_PAUSE_MS = 50;
const MAX_LOCAL_RETRIES = 40;
/** The shortest ICMP interval a confirmation assumes, whatever the sweep measured. */
const MIN_ICMP_INTERVAL_MS = 20;
/** Sockets a UDP scan keeps open at most, whatever the caps say (ulimit -n is often 1024). */
const MAX_SOCKETS = 256;

/** One scan's moving parts: its ports, the probes' shared timing, and what the ICMP answers told. */
interface UdpScan {
  options: UdpScanOptions;
  signal: AbortSignal;
  tasks: PortTask[];
  environment: ProbeEnvironment;
  rtt: RttEstimator;
  rateBucket: TokenBucket;
  maxInFlight: number;
  icmpAnswers: number;
  lastIcmpAt: number;
}

export async function scanUdp(options: UdpScanOptions): Promise<Observation[]> {
  // Every probe and waiting worker listens for abort: they listen on a signal of this scan's own,
  // sized for them, which follows the caller's, instead of piling listeners on the caller's signal.
  const scanAbort = new AbortController();
  const signal = scanAbort.signal;
  setMaxListeners(2 * MAX_SOCKETS + 16, signal);
  const forwardAbort = (): void => scanAbort.abort();
  if (options.signal?.aborted) scanAbort.abort();
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  try {
    return await runUdpScan(options, signal);
  } finally {
    options.signal?.removeEventListener('abort', forwardAbort);
  }
}

async function runUdpScan(options: UdpScanOptions, signal: AbortSignal): Promise<Observation[]> {
  const icmp = options.privileged ? openIcmpListener({ family: options.family, address: options.address }) : null;
  const scan: UdpScan = {
    options,
    signal,
    tasks: options.plan.map(({ port, service, tier }) => ({ port, tier, payload: payloadFor(service, options.family), attempts: 0, confirmedSilences: 0, observation: null })),
    environment: { options, icmp, signal },
    rtt: createRttEstimator(),
    rateBucket: createTokenBucket({ ratePerSecond: options.caps.maxRatePerSecond, nowMs: performance.now() }),
    maxInFlight: Math.max(1, Math.min(options.caps.maxConcurrency, MAX_SOCKETS)),
    icmpAnswers: 0,
    lastIcmpAt: -Infinity,
  };
  const modelled = options.icmpLimit ?? LINUX_ICMP_LIMIT;
  try {
    // 1. Sweep, in priority order: the documented ports meet a full ICMP bucket.
    const sweepStarted = performance.now();
    await runPool(scan, scan.tasks, (task) => probePort(scan, task));
    const sweepMs = performance.now() - sweepStarted;
    // No more ICMP answers than a Linux IPv4 bucket could give in the sweep: a limit to work around.
    // More may still be a faster limit (Linux IPv6: 100 ms): retries that draw answers from ports
    // silent before show it.
    const sweepLimited = scan.icmpAnswers > 0 && scan.icmpAnswers <= modelled.burst + sweepMs / modelled.intervalMs + 2;
    const limit = options.icmpLimit ?? estimateIcmpLimit(scan.icmpAnswers, scan.lastIcmpAt - sweepStarted);
    // 2. Retries with backoff, or confirmation one ICMP token at a time.
    const rateLimited = sweepLimited || (await retryWithBackoff(scan)) === 'rate-limited';
    const unconfirmedWhy = rateLimited ? await confirmUnderRateLimit(scan, limit) : () => 'stopped';
    // 3. What is still silent is open|filtered, saying how hard it was asked.
    if (!signal.aborted) for (const task of silentTasks(scan)) decide(scan, task, silentObservation(scan, task, rateLimited, unconfirmedWhy));
  } finally {
    icmp?.close();
  }
  return scan.tasks.flatMap((task) => (task.observation ? [task.observation] : [])).sort((a, b) => a.port - b.port);
}

function silentTasks(scan: UdpScan): PortTask[] {
  return scan.tasks.filter((task) => task.observation === null);
}

/** Silences a port needs, with a token available, before it is left open|filtered: documented ports are asked again. */
function neededSilences(scan: UdpScan, task: PortTask): number {
  return task.tier === 0 ? Math.max(2, scan.options.caps.maxRetries) : 1;
}

function decide(scan: UdpScan, task: PortTask, observation: Omit<Observation, 'transport' | 'port' | 'attempts' | 'service'>): void {
  task.observation = { transport: 'udp', port: task.port, attempts: task.attempts, service: task.payload.service, ...observation };
  scan.options.onObservation?.(task.observation);
}

/** Sends one probe (after the rate cap), folds its RTT in, and decides the port on an answer. */
async function probePort(scan: UdpScan, task: PortTask): Promise<ProbeOutcome> {
  const { caps } = scan.options;
  for (let localRetries = 0; ; localRetries++) {
    for (let wait = takeToken(scan.rateBucket, performance.now()); wait > 0; wait = takeToken(scan.rateBucket, performance.now())) {
      await sleep(wait, scan.signal);
    }
    if (scan.signal.aborted) return { kind: 'silent' };
    const timeoutMs = Math.min(caps.maxRttTimeoutMs, computeTimeoutMs(scan.rtt, caps) * BACKOFF_FACTOR ** Math.min(task.attempts, 4));
    task.attempts++;
    const outcome = await probeOnce(task, timeoutMs, scan.environment);
    if (outcome.kind === 'local-error') {
      task.attempts--;
      if (localRetries >= MAX_LOCAL_RETRIES) return { kind: 'silent' };
      await sleep(LOCAL_RETRY_PAUSE_MS, scan.signal);
      continue;
    }
    if (outcome.kind === 'reply') {
      updateRtt(scan.rtt, outcome.rttMs);
      decide(scan, task, { state: 'open', reason: 'udp-response', rttMs: outcome.rttMs, ...(outcome.banner ? { banner: outcome.banner } : {}) });
    } else if (outcome.kind === 'icmp') {
      updateRtt(scan.rtt, outcome.rttMs);
      scan.icmpAnswers++;
      scan.lastIcmpAt = performance.now();
      decide(scan, task, { state: outcome.state, reason: outcome.reason, rttMs: outcome.rttMs });
    }
    return outcome;
  }
}

/** Runs fn over items with at most the scan's width in flight. */
async function runPool(scan: UdpScan, items: readonly PortTask[], fn: (task: PortTask) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !scan.signal.aborted) {
      const task = items[next++];
      if (task) await fn(task);
    }
  };
  await Promise.all(Array.from({ length: Math.min(scan.maxInFlight, items.length) }, worker));
}

/**
 * The target's ICMP limit as the sweep saw it: the bucket gave its burst, then one answer per
 * interval while the sweep kept it empty; the interval is measured from the sweep's start to its
 * last answer, so it errs long (a confirmation spaced too far is slower, never wrong). A sweep
 * that got no more than the burst measured nothing: Linux's IPv4 interval is assumed.
 */
function estimateIcmpLimit(answers: number, answeringMs: number): { intervalMs: number; burst: number } {
  const { burst, intervalMs } = LINUX_ICMP_LIMIT;
  if (answers <= burst || !Number.isFinite(answeringMs)) return { burst, intervalMs };
  return { burst, intervalMs: Math.min(intervalMs, Math.max(MIN_ICMP_INTERVAL_MS, answeringMs / (answers - burst))) };
}

/**
 * Silent ports probed again, with backoff, up to the retries: enough for a target without an ICMP
 * limit. A round in which a port silent before answers ICMP while others stay silent shows a
 * limit after all (or loss): the rest is left to the confirmation.
 */
async function retryWithBackoff(scan: UdpScan): Promise<'done' | 'rate-limited'> {
  for (let round = 0; round < scan.options.caps.maxRetries && !scan.signal.aborted; round++) {
    const silent = silentTasks(scan);
    if (silent.length === 0) break;
    const answersBefore = scan.icmpAnswers;
    await runPool(scan, silent, (task) => probePort(scan, task));
    if (scan.icmpAnswers > answersBefore && silentTasks(scan).length > 0) return 'rate-limited';
  }
  for (const task of silentTasks(scan)) task.confirmedSilences = scan.options.caps.maxRetries + 1;
  return 'done';
}

/** A rate-limited target: the silent ports the UdpConfirm rule takes on are probed one ICMP token at a time. */
async function confirmUnderRateLimit(scan: UdpScan, limit: { intervalMs: number; burst: number }): Promise<(task: PortTask) => string> {
  const confirm = scan.options.confirm ?? DEFAULT_UDP_CONFIRM;
  const silent = silentTasks(scan);
  const scope = confirmScope(confirm, silent.length);
  await confirmOneTokenAtATime({
    queue: silent.filter((task) => scope === 'all' || (scope === 'documented' && task.tier === 0)),
    probe: (task) => probePort(scan, task),
    limit,
    maxInFlight: scan.maxInFlight,
    neededSilences: (task) => neededSilences(scan, task),
    lastIcmpAt: () => scan.lastIcmpAt,
    ...(scan.options.onConfirmProgress ? { onProgress: scan.options.onConfirmProgress } : {}),
    signal: scan.signal,
  });
  return (task) => whyUnconfirmed(confirm, scope, silent.length, task.tier === 0);
}

/** open|filtered, with the probes it got and whether they were spaced so a closed port could have answered. */
function silentObservation(scan: UdpScan, task: PortTask, rateLimited: boolean, unconfirmedWhy: (task: PortTask) => string): Omit<Observation, 'transport' | 'port' | 'attempts' | 'service'> {
  const probes = `${describeProbe(task.payload)} after ${task.attempts} probe${task.attempts === 1 ? '' : 's'}`;
  const detail = !rateLimited
    ? `no reply to ${probes}`
    : task.confirmedSilences >= neededSilences(scan, task)
      ? `no reply to ${probes} spaced for the target's ICMP rate limit`
      : `not confirmed (${unconfirmedWhy(task)}): no reply to ${probes}, not spaced for the target's ICMP rate limit, so a closed port may hide here`;
  return { state: 'open|filtered', reason: 'no-response', rttMs: null, detail };
}
