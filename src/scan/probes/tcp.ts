// One host's TCP scan is one state machine whose steps share its state and call one another: one file (~470 lines).
/**
 * Connect scan of one host: a sliding window of non-blocking connects over a pseudo-random
 * walk of the plan, adaptive timeouts from measured RTTs, retries only for silent ports
 * (nmap's allowance, applied again at the end to every silent port), a rate cap, and back-off
 * on local resource errors, which are never a port state. A probe the prober never reports as
 * sent (a stale addon, a wedged worker) is taken back after a watchdog time, never waited on
 * forever; a port whose probe keeps not going out ends the scan with an error that says so.
 */
import { PortmatrixError } from '../../errors.js';
import type { ScanCaps } from '../../defaults.js';
import type { PortRange } from '../../model/port-range.js';
import { classifyConnectOutcome } from '../classify.js';
import type { Observation, PortState, Reason } from '../../model/port-state.js';
import { createPortWalk } from '../port-plan.js';
import {
  allowedAttempts,
  answerWindowSize,
  computeTimeoutMs,
  createCongestionWindow,
  createRttEstimator,
  createSilenceEstimator,
  createTokenBucket,
  recordCompletion,
  recordLocalResourceError,
  recordSilence,
  takeToken,
  updateRtt,
  windowSize,
} from '../timing.js';
import { createConnectProber, type ConnectProber, type ProbeOutcomeHandler, type ProberKind } from './connect-prober.js';
import { createSynProber, type SynProber, type SynProberStats } from './syn-prober.js';

/** connect: a full handshake per open port (any user); syn: half-open over raw sockets (root). */
export type TcpScanType = 'connect' | 'syn';

export interface TcpScanOptions {
  address: string;
  family: 4 | 6;
  ports: readonly PortRange[];
  caps: ScanCaps;
  /** Sockets in flight at most: the caps' concurrency already bounded by the fd budget. */
  maxInFlight: number;
  /** Seed of the port order; random when absent. */
  seed?: number;
  prober?: ProberKind;
  /** connect unless said; syn throws when raw sockets cannot be opened (the caller decided it could). */
  scanType?: TcpScanType;
  signal?: AbortSignal;
  /** Every decided port, as soon as it is decided. */
  onObservation?: (observation: Observation) => void;
  /** How long a probe may wait to be sent before the prober counts as stalled; SEND_WATCHDOG_MS unless said. */
  sendWatchdogMs?: number;
  /** Opens the prober instead of the scan type's own (tests: a real prober with a fault injected). */
  openProber?: (handler: ProbeOutcomeHandler) => ConnectProber;
}

export interface TcpScanStats {
  prober: ProberKind;
  probesSent: number;
  localResourceRetries: number;
  selfConnects: number;
  maxAnsweredAttempt: number;
  allowedAttempts: number;
  srttMs: number | null;
  rttvarMs: number;
  finalTimeoutMs: number;
  finalWindow: number;
  /** Probes the prober never reported as sent within the watchdog time: taken back and sent again. */
  unsentProbes: number;
  /** SYN scan only: what the raw path saw, forged or stray answers included. */
  raw?: SynProberStats;
}

export interface TcpScanOutcome {
  /** Every decided port (closed ones included; the engine folds them). */
  observations: Observation[];
  complete: boolean;
  stats: TcpScanStats;
}

const SWEEP_GRANULARITY_MS = 5;
const MAX_LOCAL_RETRIES_PER_PORT = 200;
const MAX_BACKOFF_MS = 1000;
/**
 * A probe still not sent this long after it was queued (beyond its own timeout) is taken back:
 * long enough for a native worker starved on a loaded machine, short of a hang.
 */
export const SEND_WATCHDOG_MS = 5000;
/** Times a port's probe may be taken back unsent before the scan ends with an error. */
const MAX_UNSENT_PER_PORT = 3;

/** Everything one host's TCP scan keeps between events; the steps below read and change it. */
interface TcpScan {
  readonly options: TcpScanOptions;
  readonly slots: number;
  readonly walk: ReturnType<typeof createPortWalk>;
  readonly attempts: Uint8Array;
  readonly localRetries: Uint16Array;
  readonly unsentRetries: Uint8Array;
  readonly observations: Observation[];
  readonly retryQueue: number[];
  retryHead: number;
  silent: number[];
  heldPort: number;
  readonly slotPort: Int32Array;
  readonly slotTimeoutMs: Float64Array;
  readonly slotQueuedAt: Float64Array;
  readonly slotAttempt: Uint8Array;
  readonly freeSlots: number[];
  inFlight: number;
  readonly rtt: ReturnType<typeof createRttEstimator>;
  readonly silence: ReturnType<typeof createSilenceEstimator>;
  readonly window: ReturnType<typeof createCongestionWindow>;
  readonly bucket: ReturnType<typeof createTokenBucket>;
  maxAnsweredAttempt: number;
  probesSent: number;
  localResourceRetries: number;
  unsentProbes: number;
  selfConnects: number;
  backoffMs: number;
  /** How long a probe may wait to be sent (options.sendWatchdogMs or SEND_WATCHDOG_MS). */
  watchdogMs: number;
  pausedUntil: number;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
  finished: boolean;
  pumping: boolean;
  prober: ConnectProber;
  synProber: SynProber | null;
  resolve: (outcome: TcpScanOutcome) => void;
  reject: (error: unknown) => void;
}

export async function scanTcp(options: TcpScanOptions): Promise<TcpScanOutcome> {
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<TcpScanOutcome>((resolve, reject) => {
      const scan = createScan(options, resolve, reject);
      onAbort = () => pump(scan);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      pump(scan);
    });
  } finally {
    // The listener holds the whole scan state: a signal shared by many scans must not keep them all.
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  }
}

function createScan(options: TcpScanOptions, resolve: TcpScan['resolve'], reject: TcpScan['reject']): TcpScan {
  const slots = Math.max(1, Math.floor(options.maxInFlight));
  const freeSlots: number[] = [];
  for (let slot = slots - 1; slot >= 0; slot--) freeSlots.push(slot);
  const scan: TcpScan = {
    options,
    slots,
    walk: createPortWalk(options.ports, options.seed ?? Math.floor(Math.random() * 2 ** 32)),
    attempts: new Uint8Array(65536),
    localRetries: new Uint16Array(65536),
    unsentRetries: new Uint8Array(65536),
    observations: [],
    retryQueue: [],
    retryHead: 0,
    silent: [],
    heldPort: -1,
    slotPort: new Int32Array(slots).fill(-1),
    slotTimeoutMs: new Float64Array(slots),
    slotQueuedAt: new Float64Array(slots),
    slotAttempt: new Uint8Array(slots),
    freeSlots,
    inFlight: 0,
    rtt: createRttEstimator(),
    silence: createSilenceEstimator(),
    window: createCongestionWindow({ maxCwnd: slots }),
    bucket: createTokenBucket({ ratePerSecond: options.caps.maxRatePerSecond, nowMs: performance.now() }),
    maxAnsweredAttempt: 1,
    probesSent: 0,
    localResourceRetries: 0,
    unsentProbes: 0,
    selfConnects: 0,
    backoffMs: 0,
    watchdogMs: options.sendWatchdogMs ?? SEND_WATCHDOG_MS,
    pausedUntil: 0,
    timer: undefined,
    timerAt: Infinity,
    finished: false,
    pumping: false,
    prober: undefined as unknown as ConnectProber,
    synProber: null,
    resolve,
    reject,
  };
  openProber(scan);
  return scan;
}

/** The prober the scan type asks for (or the one the caller opens), wired to this scan. */
function openProber(scan: TcpScan): void {
  const { options } = scan;
  const handler: ProbeOutcomeHandler = {
    onOutcome: (slot, outcome, rttMs, icmpType, icmpCode) => handleOutcome(scan, slot, outcome, rttMs, icmpType, icmpCode),
    onBatchEnd: () => pump(scan),
  };
  if (options.openProber) {
    scan.prober = options.openProber(handler);
    return;
  }
  const target = { address: options.address, family: options.family, slots: scan.slots };
  scan.synProber = options.scanType === 'syn' ? createSynProber(target, handler) : null;
  scan.prober = scan.synProber ?? createConnectProber({ ...target, ...(options.prober ? { prefer: options.prober } : {}) }, handler);
}

function allowance(scan: TcpScan): number {
  return allowedAttempts({ maxRetries: scan.options.caps.maxRetries, maxAnsweredAttempt: scan.maxAnsweredAttempt });
}

function decide(scan: TcpScan, port: number, state: PortState, reason: Reason, rttMs: number | null, tries: number): void {
  const observation: Observation = { transport: 'tcp', port, state, reason, rttMs, attempts: tries };
  scan.observations.push(observation);
  scan.options.onObservation?.(observation);
}

function queueSilent(scan: TcpScan, port: number): void {
  if ((scan.attempts[port] ?? 0) < allowance(scan)) scan.retryQueue.push(port);
  else scan.silent.push(port);
}

function freeSlot(scan: TcpScan, slot: number): number {
  const port = scan.slotPort[slot] ?? -1;
  scan.slotPort[slot] = -1;
  scan.freeSlots.push(slot);
  scan.inFlight--;
  return port;
}

function fail(scan: TcpScan, error: unknown): void {
  if (scan.finished) return;
  scan.finished = true;
  if (scan.timer) clearTimeout(scan.timer);
  scan.prober.close();
  scan.reject(error);
}

function handleOutcome(scan: TcpScan, slot: number, outcome: string, rttMs: number, icmpType: number, icmpCode: number): void {
  if ((scan.slotPort[slot] ?? -1) < 0 || scan.finished) return;
  const attempt = scan.slotAttempt[slot] ?? 1;
  const port = freeSlot(scan, slot);
  const family = scan.options.family;
  const verdict = classifyConnectOutcome(outcome, icmpType >= 0 ? { family, type: icmpType, code: icmpCode } : undefined);
  switch (verdict.kind) {
    case 'state':
      decide(scan, port, verdict.state, verdict.reason, Math.round(rttMs * 1000) / 1000, attempt);
      updateRtt(scan.rtt, rttMs);
      recordSilence(scan.silence, false);
      recordCompletion(scan.window, { answered: true, attempt });
      if (attempt > scan.maxAnsweredAttempt) scan.maxAnsweredAttempt = attempt;
      scan.backoffMs = 0;
      return;
    case 'no-answer':
      recordSilence(scan.silence, true);
      recordCompletion(scan.window, { answered: false, attempt });
      queueSilent(scan, port);
      return;
    case 'self-connect':
      // Says nothing about the port; the next connect gets another local port.
      scan.selfConnects++;
      scan.attempts[port] = attempt - 1;
      scan.retryQueue.push(port);
      return;
    case 'local-resource':
      backOffLocalResource(scan, port, attempt, outcome);
      return;
  }
}

/** A local resource ran out (fds, ports, buffers): never a port state; the port goes again after a back-off. */
function backOffLocalResource(scan: TcpScan, port: number, attempt: number, outcome: string): void {
  scan.localResourceRetries++;
  scan.attempts[port] = attempt - 1;
  const retries = (scan.localRetries[port] = (scan.localRetries[port] ?? 0) + 1);
  if (retries > MAX_LOCAL_RETRIES_PER_PORT) {
    fail(
      scan,
      new PortmatrixError('E_SCAN', `tcp/${port} on ${scan.options.address}: the local host keeps failing to open a connection (${outcome})`, {
        hint: 'raise the open-file limit (ulimit -n), free local ports, or lower --max-concurrency',
      }),
    );
    return;
  }
  scan.retryQueue.push(port);
  recordLocalResourceError(scan.window, scan.inFlight + 1);
  scan.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(5, scan.backoffMs * 2));
  scan.pausedUntil = performance.now() + scan.backoffMs;
}

/** A probe the prober never reported as sent: taken back and sent again, a port that keeps stalling ends the scan. */
function takeBackUnsent(scan: TcpScan, slot: number): void {
  scan.prober.abort(slot);
  const attempt = scan.slotAttempt[slot] ?? 1;
  const port = freeSlot(scan, slot);
  scan.unsentProbes++;
  scan.attempts[port] = attempt - 1;
  const stalls = (scan.unsentRetries[port] = (scan.unsentRetries[port] ?? 0) + 1);
  if (stalls >= MAX_UNSENT_PER_PORT) {
    fail(
      scan,
      new PortmatrixError(
        'E_SCAN',
        `tcp/${port} on ${scan.options.address}: the ${scan.prober.kind} prober did not send the probe (${stalls} times, ${scan.watchdogMs / 1000} s each)`,
        { hint: 'npm rebuild rebuilds the native probers for this Node.js; --connect (with PORTMATRIX_PROBER=net-socket) scans without them' },
      ),
    );
    return;
  }
  scan.retryQueue.push(port);
}

function arm(scan: TcpScan, at: number): void {
  const when = Math.max(at, performance.now() + SWEEP_GRANULARITY_MS);
  if (scan.timer && scan.timerAt <= when) return;
  if (scan.timer) clearTimeout(scan.timer);
  scan.timerAt = when;
  scan.timer = setTimeout(() => onTimer(scan), when - performance.now());
}

function onTimer(scan: TcpScan): void {
  scan.timer = undefined;
  scan.timerAt = Infinity;
  if (scan.finished) return;
  // Read every answer that is already waiting before judging anything timed out. Only then: a
  // drain waits for the prober's thread, which a loaded machine may not schedule for a while.
  if (anyDeadlinePassed(scan, performance.now())) {
    scan.prober.drain();
    if (scan.finished) return;
  }
  const earliest = sweepTimeouts(scan, performance.now());
  if (earliest < Infinity) arm(scan, earliest);
  pump(scan);
}

/** When the probe in `slot` times out (or, never sent, is taken back); Infinity for a free slot. */
function deadlineOf(scan: TcpScan, slot: number, sentAt = scan.prober.sentAt(slot)): number {
  if ((scan.slotPort[slot] ?? -1) < 0) return Infinity;
  const timeoutMs = scan.slotTimeoutMs[slot] ?? 0;
  return sentAt === undefined ? (scan.slotQueuedAt[slot] ?? 0) + scan.watchdogMs + timeoutMs : sentAt + timeoutMs;
}

function anyDeadlinePassed(scan: TcpScan, now: number): boolean {
  for (let slot = 0; slot < scan.slots; slot++) if (deadlineOf(scan, slot) <= now) return true;
  return false;
}

/** Times out the silent probes whose deadline has passed; returns the next deadline. */
function sweepTimeouts(scan: TcpScan, now: number): number {
  let earliest = Infinity;
  for (let slot = 0; slot < scan.slots && !scan.finished; slot++) {
    const port = scan.slotPort[slot] ?? -1;
    if (port < 0) continue;
    const sentAt = scan.prober.sentAt(slot);
    const deadline = deadlineOf(scan, slot, sentAt);
    if (sentAt === undefined) {
      // Still queued: its timeout has not started (look again a timeout from now). Not for ever, though.
      if (deadline <= now) takeBackUnsent(scan, slot);
      else earliest = Math.min(earliest, now + (scan.slotTimeoutMs[slot] ?? 0), deadline);
    } else if (deadline <= now) {
      // The timeout runs from when the probe went out.
      scan.prober.abort(slot);
      const attempt = scan.slotAttempt[slot] ?? 1;
      freeSlot(scan, slot);
      recordSilence(scan.silence, true);
      recordCompletion(scan.window, { answered: false, attempt });
      queueSilent(scan, port);
    } else if (deadline < earliest) earliest = deadline;
  }
  return earliest;
}

function nextPort(scan: TcpScan): number {
  if (scan.heldPort >= 0) {
    const port = scan.heldPort;
    scan.heldPort = -1;
    return port;
  }
  if (scan.retryHead < scan.retryQueue.length) {
    const port = scan.retryQueue[scan.retryHead++] ?? -1;
    if (scan.retryHead > 4096 && scan.retryHead * 2 > scan.retryQueue.length) {
      scan.retryQueue.splice(0, scan.retryHead);
      scan.retryHead = 0;
    }
    return port;
  }
  return scan.walk.next();
}

function complete(scan: TcpScan, isComplete: boolean): void {
  if (scan.finished) return;
  scan.finished = true;
  if (scan.timer) clearTimeout(scan.timer);
  scan.prober.close();
  if (isComplete) for (const port of scan.silent) decide(scan, port, 'filtered', 'no-response', null, scan.attempts[port] ?? 0);
  scan.resolve({ observations: scan.observations, complete: isComplete, stats: collectStats(scan) });
}

function collectStats(scan: TcpScan): TcpScanStats {
  const round = (value: number): number => Math.round(value * 1000) / 1000;
  return {
    prober: scan.prober.kind,
    probesSent: scan.probesSent,
    localResourceRetries: scan.localResourceRetries,
    selfConnects: scan.selfConnects,
    maxAnsweredAttempt: scan.maxAnsweredAttempt,
    allowedAttempts: allowance(scan),
    srttMs: scan.rtt.srttMs === null ? null : round(scan.rtt.srttMs),
    rttvarMs: round(scan.rtt.rttvarMs),
    finalTimeoutMs: round(computeTimeoutMs(scan.rtt, scan.options.caps)),
    finalWindow: windowSize(scan.window),
    unsentProbes: scan.unsentProbes,
    ...(scan.synProber ? { raw: scan.synProber.stats() } : {}),
  };
}

/**
 * Sends what the window, the answer rate and the token bucket allow. Returns the last port taken
 * from the walk or the retry queue (-1: none left), or null when it stopped for a pause.
 */
function fillWindow(scan: TcpScan, now: number): number | null {
  const timeoutMs = computeTimeoutMs(scan.rtt, scan.options.caps);
  const limit = Math.min(windowSize(scan.window), answerWindowSize(scan.rtt, scan.silence, timeoutMs));
  let port = -1;
  while (scan.inFlight < limit && !scan.finished) {
    port = nextPort(scan);
    if (port < 0) break;
    const waitMs = takeToken(scan.bucket, now);
    if (waitMs > 0) {
      scan.heldPort = port;
      arm(scan, now + waitMs);
      break;
    }
    const slot = scan.freeSlots.pop() ?? -1;
    const attempt = (scan.attempts[port] = (scan.attempts[port] ?? 0) + 1);
    scan.slotPort[slot] = port;
    scan.slotAttempt[slot] = attempt;
    scan.slotTimeoutMs[slot] = timeoutMs;
    scan.slotQueuedAt[slot] = now;
    scan.inFlight++;
    scan.probesSent++;
    arm(scan, now + timeoutMs);
    scan.prober.connect(slot, port);
    if (scan.pausedUntil > now) {
      arm(scan, scan.pausedUntil);
      return null;
    }
  }
  return port;
}

/** Walk done and nothing in flight: every silent port gets the final allowance. False when none is left to try. */
function retrySilentPorts(scan: TcpScan): boolean {
  const final = allowance(scan);
  const again = scan.silent.filter((silentPort) => (scan.attempts[silentPort] ?? 0) < final);
  if (again.length === 0) return false;
  scan.silent = scan.silent.filter((silentPort) => (scan.attempts[silentPort] ?? 0) >= final);
  scan.retryQueue.push(...again);
  return true;
}

function pump(scan: TcpScan): void {
  if (scan.finished || scan.pumping) return;
  if (scan.options.signal?.aborted) return complete(scan, false);
  scan.pumping = true;
  try {
    for (;;) {
      const now = performance.now();
      if (now < scan.pausedUntil) {
        arm(scan, scan.pausedUntil);
        break;
      }
      const port = fillWindow(scan, now);
      if (port === null) break;
      if (scan.finished || scan.inFlight > 0 || scan.heldPort >= 0 || scan.retryHead < scan.retryQueue.length || port >= 0) break;
      if (performance.now() < scan.pausedUntil) continue;
      if (!retrySilentPorts(scan)) return complete(scan, true);
    }
    if (!scan.finished) scan.prober.flush();
  } catch (error) {
    fail(scan, error);
  } finally {
    scan.pumping = false;
  }
}
