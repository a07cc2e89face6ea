/**
 * The confirmation round of a UDP scan under the target's ICMP rate limit (see udp.ts): which
 * silent ports it takes on (the UdpConfirm rule), why a port was left out, and the pacing of one
 * probe per modelled ICMP token.
 */
import { AUTO_CONFIRM_MAX_SILENT, type UdpConfirm } from '../../defaults.js';
import type { UdpPayload } from '../payloads/index.js';
import { sleep, type PortTask, type ProbeOutcome } from './udp-probe.js';

/** Slack on the modelled token, for timer and jiffy granularity on both ends. */
const TOKEN_MARGIN_MS = 40;

/** Which silent ports the confirmation round takes on, by the rule of UdpConfirm. */
export function confirmScope(confirm: UdpConfirm, silentCount: number): 'all' | 'documented' | 'none' {
  if (confirm !== 'auto') return confirm;
  return silentCount <= AUTO_CONFIRM_MAX_SILENT ? 'all' : 'documented';
}

/** Why a silent port was left out of the confirmation round, for its detail. */
export function whyUnconfirmed(confirm: UdpConfirm, scope: 'all' | 'documented' | 'none', silentCount: number, documented: boolean): string {
  if (scope === 'all' || (scope === 'documented' && documented)) return 'stopped before its turn';
  if (confirm === 'auto') {
    return `${silentCount} ports were silent after the first pass, more than the ${AUTO_CONFIRM_MAX_SILENT} confirmed at the target's ICMP rate (about 1 s each), so only documented ports were; --udp-confirm all confirms every port`;
  }
  return `--udp-confirm ${confirm}`;
}

/** The probe a silent port got, for the open|filtered detail. */
export function describeProbe(payload: UdpPayload): string {
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
export async function confirmOneTokenAtATime(options: {
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
