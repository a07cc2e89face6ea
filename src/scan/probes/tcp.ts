/**
 * Connect scan of one host: a sliding window of non-blocking connects over a pseudo-random
 * walk of the plan, adaptive timeouts from measured RTTs, retries only for silent ports
 * (nmap's allowance, applied again at the end to every silent port), a rate cap, and back-off
 * on local resource errors, which are never a port state.
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

export function scanTcp(options: TcpScanOptions): Promise<TcpScanOutcome> {
  return new Promise((resolve, reject) => {
    const { caps, family } = options;
    const slots = Math.max(1, Math.floor(options.maxInFlight));
    const walk = createPortWalk(options.ports, options.seed ?? Math.floor(Math.random() * 2 ** 32));
    const attempts = new Uint8Array(65536);
    const localRetries = new Uint16Array(65536);
    const observations: Observation[] = [];
    const retryQueue: number[] = [];
    let retryHead = 0;
    let silent: number[] = [];
    let heldPort = -1;
    const slotPort = new Int32Array(slots).fill(-1);
    const slotTimeoutMs = new Float64Array(slots);
    const slotAttempt = new Uint8Array(slots);
    const freeSlots: number[] = [];
    for (let slot = slots - 1; slot >= 0; slot--) freeSlots.push(slot);
    let inFlight = 0;
    const rtt = createRttEstimator();
    const silence = createSilenceEstimator();
    const window = createCongestionWindow({ maxCwnd: slots });
    const bucket = createTokenBucket({ ratePerSecond: caps.maxRatePerSecond, nowMs: performance.now() });
    let maxAnsweredAttempt = 1;
    let probesSent = 0;
    let localResourceRetries = 0;
    let selfConnects = 0;
    let backoffMs = 0;
    let pausedUntil = 0;
    let timer: NodeJS.Timeout | undefined;
    let timerAt = Infinity;
    let finished = false;
    let pumping = false;

    const allowance = (): number => allowedAttempts({ maxRetries: caps.maxRetries, maxAnsweredAttempt });

    const decide = (port: number, state: PortState, reason: Reason, rttMs: number | null, tries: number): void => {
      const observation: Observation = { transport: 'tcp', port, state, reason, rttMs, attempts: tries };
      observations.push(observation);
      options.onObservation?.(observation);
    };

    const onSilent = (port: number): void => {
      if ((attempts[port] ?? 0) < allowance()) retryQueue.push(port);
      else silent.push(port);
    };

    const freeSlot = (slot: number): number => {
      const port = slotPort[slot] ?? -1;
      slotPort[slot] = -1;
      freeSlots.push(slot);
      inFlight--;
      return port;
    };

    const fail = (error: unknown): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      prober.close();
      reject(error);
    };

    const onOutcome = (slot: number, outcome: string, rttMs: number, icmpType: number, icmpCode: number): void => {
      if ((slotPort[slot] ?? -1) < 0 || finished) return;
      const attempt = slotAttempt[slot] ?? 1;
      const port = freeSlot(slot);
      const verdict = classifyConnectOutcome(outcome, icmpType >= 0 ? { family, type: icmpType, code: icmpCode } : undefined);
      switch (verdict.kind) {
        case 'state':
          decide(port, verdict.state, verdict.reason, Math.round(rttMs * 1000) / 1000, attempt);
          updateRtt(rtt, rttMs);
          recordSilence(silence, false);
          recordCompletion(window, { answered: true, attempt });
          if (attempt > maxAnsweredAttempt) maxAnsweredAttempt = attempt;
          backoffMs = 0;
          return;
        case 'no-answer':
          recordSilence(silence, true);
          recordCompletion(window, { answered: false, attempt });
          onSilent(port);
          return;
        case 'self-connect':
          // Says nothing about the port; the next connect gets another local port.
          selfConnects++;
          attempts[port] = attempt - 1;
          retryQueue.push(port);
          return;
        case 'local-resource': {
          localResourceRetries++;
          attempts[port] = attempt - 1;
          const retries = (localRetries[port] = (localRetries[port] ?? 0) + 1);
          if (retries > MAX_LOCAL_RETRIES_PER_PORT) {
            fail(
              new PortmatrixError('E_SCAN', `tcp/${port} on ${options.address}: the local host keeps failing to open a connection (${outcome})`, {
                hint: 'raise the open-file limit (ulimit -n), free local ports, or lower --max-concurrency',
              }),
            );
            return;
          }
          retryQueue.push(port);
          recordLocalResourceError(window, inFlight + 1);
          backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(5, backoffMs * 2));
          pausedUntil = performance.now() + backoffMs;
          return;
        }
      }
    };

    const handler: ProbeOutcomeHandler = { onOutcome, onBatchEnd: () => pump() };
    const synProber: SynProber | null = options.scanType === 'syn' ? createSynProber({ address: options.address, family, slots }, handler) : null;
    const prober: ConnectProber =
      synProber ?? createConnectProber({ address: options.address, family, slots, ...(options.prober ? { prefer: options.prober } : {}) }, handler);

    const arm = (at: number): void => {
      const when = Math.max(at, performance.now() + SWEEP_GRANULARITY_MS);
      if (timer && timerAt <= when) return;
      if (timer) clearTimeout(timer);
      timerAt = when;
      timer = setTimeout(onTimer, when - performance.now());
    };

    function onTimer(): void {
      timer = undefined;
      timerAt = Infinity;
      if (finished) return;
      // Read every answer that is already waiting before judging anything timed out.
      prober.drain();
      if (finished) return;
      const now = performance.now();
      let earliest = Infinity;
      for (let slot = 0; slot < slots; slot++) {
        const port = slotPort[slot] ?? -1;
        if (port < 0) continue;
        // The timeout runs from when the probe went out; one still queued has not started it.
        const deadline = (prober.sentAt(slot) ?? now) + (slotTimeoutMs[slot] ?? 0);
        if (deadline <= now) {
          prober.abort(slot);
          const attempt = slotAttempt[slot] ?? 1;
          freeSlot(slot);
          recordSilence(silence, true);
          recordCompletion(window, { answered: false, attempt });
          onSilent(port);
        } else if (deadline < earliest) earliest = deadline;
      }
      if (earliest < Infinity) arm(earliest);
      pump();
    }

    const nextPort = (): number => {
      if (heldPort >= 0) {
        const port = heldPort;
        heldPort = -1;
        return port;
      }
      if (retryHead < retryQueue.length) {
        const port = retryQueue[retryHead++] ?? -1;
        if (retryHead > 4096 && retryHead * 2 > retryQueue.length) {
          retryQueue.splice(0, retryHead);
          retryHead = 0;
        }
        return port;
      }
      return walk.next();
    };

    const complete = (isComplete: boolean): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      prober.close();
      if (isComplete) for (const port of silent) decide(port, 'filtered', 'no-response', null, attempts[port] ?? 0);
      resolve({
        observations,
        complete: isComplete,
        stats: {
          prober: prober.kind,
          probesSent,
          localResourceRetries,
          selfConnects,
          maxAnsweredAttempt,
          allowedAttempts: allowance(),
          srttMs: rtt.srttMs === null ? null : Math.round(rtt.srttMs * 1000) / 1000,
          rttvarMs: Math.round(rtt.rttvarMs * 1000) / 1000,
          finalTimeoutMs: Math.round(computeTimeoutMs(rtt, caps) * 1000) / 1000,
          finalWindow: windowSize(window),
          ...(synProber ? { raw: synProber.stats() } : {}),
        },
      });
    };

    function pump(): void {
      if (finished || pumping) return;
      if (options.signal?.aborted) return complete(false);
      pumping = true;
      try {
        for (;;) {
          const now = performance.now();
          if (now < pausedUntil) {
            arm(pausedUntil);
            break;
          }
          const timeoutMs = computeTimeoutMs(rtt, caps);
          const limit = Math.min(windowSize(window), answerWindowSize(rtt, silence, timeoutMs));
          let port = -1;
          while (inFlight < limit && !finished) {
            port = nextPort();
            if (port < 0) break;
            const waitMs = takeToken(bucket, now);
            if (waitMs > 0) {
              heldPort = port;
              arm(now + waitMs);
              break;
            }
            const slot = freeSlots.pop() ?? -1;
            const attempt = (attempts[port] = (attempts[port] ?? 0) + 1);
            slotPort[slot] = port;
            slotAttempt[slot] = attempt;
            slotTimeoutMs[slot] = timeoutMs;
            inFlight++;
            probesSent++;
            arm(now + timeoutMs);
            prober.connect(slot, port);
            if (pausedUntil > now) {
              arm(pausedUntil);
              break;
            }
          }
          if (finished || inFlight > 0 || heldPort >= 0 || retryHead < retryQueue.length || port >= 0) break;
          if (performance.now() < pausedUntil) continue;
          // Walk done and nothing in flight: give every silent port the final allowance.
          const final = allowance();
          const again = silent.filter((silentPort) => (attempts[silentPort] ?? 0) < final);
          if (again.length === 0) return complete(true);
          silent = silent.filter((silentPort) => (attempts[silentPort] ?? 0) >= final);
          retryQueue.push(...again);
        }
        if (!finished) prober.flush();
      } catch (error) {
        fail(error);
      } finally {
        pumping = false;
      }
    }

    options.signal?.addEventListener('abort', () => pump(), { once: true });
    pump();
  });
}
