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
 * Targets without a limit (many ICMP answers during the sweep) get plain retries with backoff.
 */
import dgram from 'node:dgram';
import { setMaxListeners } from 'node:events';
import { AUTO_CONFIRM_MAX_SILENT, DEFAULT_UDP_CONFIRM, type ScanCaps, type UdpConfirm } from '../../defaults.js';
import { classifyConnectOutcome } from '../classify.js';
import { openIcmpListener, type IcmpListener, type IcmpReport } from '../icmp-listener.js';
import type { Observation, PortState, Reason } from '../../model/port-state.js';
import { payloadFor, type ProbeContext, type UdpPayload } from '../payloads/index.js';
import type { UdpProbe } from '../udp-plan.js';
import { computeTimeoutMs, createRttEstimator, createTokenBucket, takeToken, updateRtt, type RttEstimator } from '../timing.js';

export interface UdpScanOptions {
  address: string;
  family: 4 | 6;
  /** Which ports, with which payload, in which order (src/scan/udp-plan.ts planUdpProbes). */
  plan: readonly UdpProbe[];
  caps: ScanCaps;
  snmpCommunity: string;
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
/** Slack on the modelled token, for timer and jiffy granularity on both ends. */
const TOKEN_MARGIN_MS = 40;
/** A probe's timeout doubles with each attempt (backoff), up to the caps' maximum. */
const BACKOFF_FACTOR = 2;
/** Local resource errors (EMFILE, ENOBUFS ...) are retried after this pause, a bounded number of times. */
const LOCAL_RETRY_PAUSE_MS = 50;
const MAX_LOCAL_RETRIES = 40;
/** Sockets a UDP scan keeps open at most, whatever the caps say (ulimit -n is often 1024). */
const MAX_SOCKETS = 256;
/** Privileged mode: an errno may beat the raw socket's copy of the same ICMP message by a moment. */
const RAW_ICMP_GRACE_MS = 15;

interface PortTask {
  port: number;
  tier: UdpProbe['tier'];
  payload: UdpPayload;
  attempts: number;
  /** Silent probes sent while the modelled ICMP bucket held a token. */
  confirmedSilences: number;
  observation: Observation | null;
}

type ProbeOutcome =
  | { kind: 'reply'; rttMs: number; banner?: string }
  | { kind: 'icmp'; rttMs: number; state: PortState; reason: Reason }
  | { kind: 'silent' }
  | { kind: 'local-error' };

interface ProbeEnvironment {
  options: UdpScanOptions;
  icmp: IcmpListener | null;
  signal: AbortSignal | undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** An errno or an ICMP message -> a verdict; ECONNREFUSED on UDP is the ICMP port unreachable itself. */
function classifyIcmp(errno: string, detail?: IcmpReport, family?: 4 | 6): ProbeOutcome | null {
  const verdict = classifyConnectOutcome(errno, detail && family ? { family, type: detail.type, code: detail.code } : undefined);
  if (verdict.kind === 'local-resource') return { kind: 'local-error' };
  if (verdict.kind !== 'state') return null;
  const reason: Reason = verdict.reason === 'conn-refused' ? 'icmp-port-unreach' : verdict.reason;
  return { kind: 'icmp', rttMs: 0, state: verdict.state, reason };
}

/** One probe: a fresh connected socket, the payload's datagrams, and the first thing that comes back. */
function probeOnce(task: PortTask, timeoutMs: number, environment: ProbeEnvironment): Promise<ProbeOutcome> {
  const { options, icmp } = environment;
  return new Promise((resolve) => {
    const type = options.family === 6 ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: task.payload.repliesFromOtherPort === true });
    let sideSocket: dgram.Socket | null = null;
    let started = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let unwatch: (() => void) | null = null;
    let context: ProbeContext | null = null;

    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      unwatch?.();
      environment.signal?.removeEventListener('abort', onAbort);
      const rttMs = performance.now() - started;
      for (const open of [socket, sideSocket]) {
        try {
          open?.close();
        } catch {
          // already closed
        }
      }
      resolve(outcome.kind === 'reply' || outcome.kind === 'icmp' ? { ...outcome, rttMs } : outcome);
    };
    const onAbort = (): void => finish({ kind: 'silent' });
    environment.signal?.addEventListener('abort', onAbort, { once: true });

    const onReply = (message: Buffer): void => {
      if (settled || !context) return;
      const decoded = task.payload.decode?.(message, context) ?? null;
      const farewell = task.payload.farewell?.(message, context) ?? null;
      const outcome: ProbeOutcome = { kind: 'reply', rttMs: 0, ...(decoded?.banner ? { banner: decoded.banner } : {}) };
      // A send still queued when the socket closes is cancelled: close after it went out.
      if (farewell) socket.send(farewell, () => finish(outcome));
      else finish(outcome);
    };
    const onIcmpReport = (report: IcmpReport): void => {
      if (report.remotePort !== task.port) return;
      const outcome = classifyIcmp('EHOSTUNREACH', report, options.family);
      if (outcome) finish(outcome);
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      if (settled) return;
      const outcome = classifyIcmp(error.code ?? 'EIO');
      if (!outcome) return;
      // With a raw socket, give its copy of the same ICMP message a moment to bring the code.
      if (icmp && outcome.kind === 'icmp') graceTimer = setTimeout(() => finish(outcome), RAW_ICMP_GRACE_MS);
      else finish(outcome);
    };

    socket.on('error', onError);
    socket.on('message', (message) => onReply(message));
    socket.connect(task.port, options.address, () => {
      if (settled) return;
      const local = socket.address();
      context = {
        family: options.family,
        localAddress: local.address,
        localPort: local.port,
        address: options.address,
        port: task.port,
        snmpCommunity: options.snmpCommunity,
      };
      if (icmp) unwatch = icmp.watch(local.port, onIcmpReport);
      if (task.payload.repliesFromOtherPort) {
        // The connected socket only hears the target's probed port; this one hears its other ports.
        sideSocket = dgram.createSocket({ type, reuseAddr: true });
        sideSocket.on('error', () => undefined);
        sideSocket.on('message', (message, remote) => {
          if (remote.address === options.address) onReply(message);
        });
        sideSocket.bind({ port: local.port, address: local.address });
      }
      let datagrams: Buffer[];
      try {
        datagrams = task.payload.build(context);
      } catch {
        datagrams = [Buffer.alloc(0)];
      }
      started = performance.now();
      for (const datagram of datagrams) socket.send(datagram, (error) => error && onError(error as NodeJS.ErrnoException));
      timer = setTimeout(() => finish({ kind: 'silent' }), timeoutMs);
    });
  });
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
  const { caps } = options;
  const limit = options.icmpLimit ?? LINUX_ICMP_LIMIT;
  const confirm = options.confirm ?? DEFAULT_UDP_CONFIRM;

  const tasks: PortTask[] = options.plan.map(({ port, service, tier }) => ({
    port,
    tier,
    payload: payloadFor(service, options.family),
    attempts: 0,
    confirmedSilences: 0,
    observation: null,
  }));

  const icmp = options.privileged ? openIcmpListener({ family: options.family, address: options.address }) : null;
  const environment: ProbeEnvironment = { options, icmp, signal };
  const rtt: RttEstimator = createRttEstimator();
  const rateBucket = createTokenBucket({ ratePerSecond: caps.maxRatePerSecond, nowMs: performance.now() });
  const maxInFlight = Math.max(1, Math.min(caps.maxConcurrency, MAX_SOCKETS));
  let lastIcmpAt = -Infinity;
  let icmpAnswers = 0;

  const decide = (task: PortTask, observation: Omit<Observation, 'transport' | 'port' | 'attempts' | 'service'>): void => {
    task.observation = { transport: 'udp', port: task.port, attempts: task.attempts, service: task.payload.service, ...observation };
    options.onObservation?.(task.observation);
  };

  /** Sends one probe (after the rate cap), folds its RTT in, and decides the port on an answer. */
  const probe = async (task: PortTask): Promise<ProbeOutcome> => {
    for (let localRetries = 0; ; localRetries++) {
      for (let wait = takeToken(rateBucket, performance.now()); wait > 0; wait = takeToken(rateBucket, performance.now())) {
        await sleep(wait, signal);
      }
      if (signal?.aborted) return { kind: 'silent' };
      const timeoutMs = Math.min(caps.maxRttTimeoutMs, computeTimeoutMs(rtt, caps) * BACKOFF_FACTOR ** Math.min(task.attempts, 4));
      task.attempts++;
      const outcome = await probeOnce(task, timeoutMs, environment);
      if (outcome.kind === 'local-error') {
        task.attempts--;
        if (localRetries >= MAX_LOCAL_RETRIES) return { kind: 'silent' };
        await sleep(LOCAL_RETRY_PAUSE_MS, signal);
        continue;
      }
      if (outcome.kind === 'reply') {
        updateRtt(rtt, outcome.rttMs);
        decide(task, { state: 'open', reason: 'udp-response', rttMs: outcome.rttMs, ...(outcome.banner ? { banner: outcome.banner } : {}) });
      } else if (outcome.kind === 'icmp') {
        updateRtt(rtt, outcome.rttMs);
        icmpAnswers++;
        lastIcmpAt = performance.now();
        decide(task, { state: outcome.state, reason: outcome.reason, rttMs: outcome.rttMs });
      }
      return outcome;
    }
  };

  /** Runs fn over items with at most `width` in flight. */
  const runPool = async (items: readonly PortTask[], width: number, fn: (task: PortTask) => Promise<unknown>): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length && !signal?.aborted) {
        const task = items[next++];
        if (task) await fn(task);
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  };

  try {
    // 1. Sweep, in priority order: the documented ports meet a full ICMP bucket.
    const sweepStarted = performance.now();
    await runPool(tasks, maxInFlight, probe);
    const sweepMs = performance.now() - sweepStarted;
    const silentAfterSweep = (): PortTask[] => tasks.filter((task) => task.observation === null);

    // More ICMP answers than a Linux bucket could give in the sweep: no limit to work around.
    const neededSilences = (task: PortTask): number => (task.tier === 0 ? Math.max(2, caps.maxRetries) : 1);
    const rateLimited = icmpAnswers > 0 && icmpAnswers <= limit.burst + sweepMs / limit.intervalMs + 2;
    let unconfirmedWhy = (_task: PortTask): string => 'stopped';
    if (!rateLimited) {
      for (let round = 0; round < caps.maxRetries && !signal?.aborted; round++) {
        const silent = silentAfterSweep();
        if (silent.length === 0) break;
        await runPool(silent, maxInFlight, probe);
      }
      for (const task of silentAfterSweep()) task.confirmedSilences = caps.maxRetries + 1;
    } else {
      const silent = silentAfterSweep();
      const scope = confirmScope(confirm, silent.length);
      await confirmOneTokenAtATime({
        queue: silent.filter((task) => scope === 'all' || (scope === 'documented' && task.tier === 0)),
        probe,
        limit,
        maxInFlight,
        neededSilences,
        lastIcmpAt: () => lastIcmpAt,
        ...(options.onConfirmProgress ? { onProgress: options.onConfirmProgress } : {}),
        ...(signal ? { signal } : {}),
      });
      unconfirmedWhy = (task) => whyUnconfirmed(confirm, scope, silent.length, task.tier === 0);
    }
    if (!signal?.aborted) {
      for (const task of silentAfterSweep()) {
        const probes = `${describeProbe(task.payload)} after ${task.attempts} probe${task.attempts === 1 ? '' : 's'}`;
        const detail = !rateLimited
          ? `no reply to ${probes}`
          : task.confirmedSilences >= neededSilences(task)
            ? `no reply to ${probes} spaced for the target's ICMP rate limit`
            : `not confirmed (${unconfirmedWhy(task)}): no reply to ${probes}, not spaced for the target's ICMP rate limit, so a closed port may hide here`;
        decide(task, { state: 'open|filtered', reason: 'no-response', rttMs: null, detail });
      }
    }
  } finally {
    icmp?.close();
  }
  return tasks.flatMap((task) => (task.observation ? [task.observation] : [])).sort((a, b) => a.port - b.port);
}

/** Which silent ports the confirmation round takes on, by the rule of UdpConfirm. */
function confirmScope(confirm: UdpConfirm, silentCount: number): 'all' | 'documented' | 'none' {
  if (confirm !== 'auto') return confirm;
  return silentCount <= AUTO_CONFIRM_MAX_SILENT ? 'all' : 'documented';
}

/** Why a silent port was left out of the confirmation round, for its detail. */
function whyUnconfirmed(confirm: UdpConfirm, scope: 'all' | 'documented' | 'none', silentCount: number, documented: boolean): string {
  if (scope === 'all' || (scope === 'documented' && documented)) return 'stopped before its turn';
  if (confirm === 'auto') {
    return `${silentCount} ports were silent after the first pass, more than the ${AUTO_CONFIRM_MAX_SILENT} confirmed at the target's ICMP rate (about 1 s each), so only documented ports were; --udp-confirm all confirms every port`;
  }
  return `--udp-confirm ${confirm}`;
}

/** The probe a silent port got, for the open|filtered detail. */
function describeProbe(payload: UdpPayload): string {
  if (payload.service === 'generic' || payload.service === 'syslog') return 'an empty datagram';
  if (payload.service === 'snmp') return 'SNMP v1/v2c GetRequest';
  return `a ${payload.service.toUpperCase()} request`;
}

/**
 * Confirmation under an ICMP rate limit. The target's bucket is modelled: empty when its last
 * ICMP answer came (the sweep had silent ports after it, so it ran dry), refilled one token per
 * interval, capped at the burst. A probe is sent only against a modelled token; an ICMP answer
 * spends it, a reply or silence gives it back (neither cost the target a message). A port is
 * left open|filtered once it stayed silent `neededSilences` times with a token available.
 */
async function confirmOneTokenAtATime(options: {
  queue: PortTask[];
  probe: (task: PortTask) => Promise<ProbeOutcome>;
  limit: { intervalMs: number; burst: number };
  maxInFlight: number;
  neededSilences: (task: PortTask) => number;
  lastIcmpAt: () => number;
  onProgress?: (progress: { pendingPorts: number; etaMs: number }) => void;
  signal?: AbortSignal;
}): Promise<void> {
  const { limit, signal } = options;
  const capacityMs = limit.burst * limit.intervalMs;
  // Credit (ms of bucket time) at creditAt; the bucket was empty at the last ICMP answer.
  let credit = 0;
  let creditAt = Number.isFinite(options.lastIcmpAt()) ? options.lastIcmpAt() : performance.now();
  const available = (now: number): number => Math.min(capacityMs, credit + (now - creditAt));
  const spend = (now: number, amountMs: number): void => {
    credit = available(now) - amountMs;
    creditAt = now;
  };
  const pending = [...options.queue];
  const inFlightTasks = new Set<PortTask>();
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };

  while (!signal?.aborted) {
    // Drop what is decided or confirmed silent; keep the priority order.
    for (let index = pending.length - 1; index >= 0; index--) {
      const task = pending[index];
      if (!task || task.observation || task.confirmedSilences >= options.neededSilences(task)) pending.splice(index, 1);
    }
    // Each pending port may be closed and cost one token: the ETA is the bucket's, not a port rate.
    const tokensShort = Math.max(0, pending.length - Math.floor(available(performance.now()) / limit.intervalMs));
    options.onProgress?.({ pendingPorts: pending.length, etaMs: tokensShort * (limit.intervalMs + TOKEN_MARGIN_MS) });
    const next = pending.find((task) => !inFlightTasks.has(task));
    if (!next) {
      if (inFlight === 0) break;
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    const now = performance.now();
    const waitMs = limit.intervalMs + TOKEN_MARGIN_MS - available(now);
    if (waitMs > 0 || inFlight >= options.maxInFlight) {
      await Promise.race([sleep(Math.max(1, waitMs), signal), new Promise<void>((resolve) => (wake = resolve))]);
      continue;
    }
    spend(now, limit.intervalMs);
    inFlight++;
    inFlightTasks.add(next);
    void options.probe(next).then((outcome) => {
      inFlight--;
      inFlightTasks.delete(next);
      // An ICMP answer spent its token; a reply or silence cost the target nothing.
      if (outcome.kind !== 'icmp') spend(performance.now(), -limit.intervalMs);
      if (outcome.kind === 'silent') next.confirmedSilences++;
      poke();
    });
  }
}
