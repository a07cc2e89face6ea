/**
 * One UDP probe: a fresh connected socket, the payload's datagrams, and the first thing that
 * comes back: a datagram (open), an ICMP error (as an errno on the socket, or with its type and
 * code through the raw ICMP / ICMPv6 listener), or silence until the timeout.
 */
import dgram from 'node:dgram';
import { classifyConnectOutcome } from '../classify.js';
import type { IcmpListener, IcmpReport } from '../icmp-listener.js';
import type { Observation, PortState, Reason } from '../../model/port-state.js';
import type { ProbeContext, UdpPayload } from '../payloads/index.js';
import type { UdpProbe } from '../udp-plan.js';

/** Privileged mode: an errno may beat the raw socket's copy of the same ICMP message by a moment. */
const RAW_ICMP_GRACE_MS = 15;

export interface PortTask {
  port: number;
  tier: UdpProbe['tier'];
  payload: UdpPayload;
  attempts: number;
  /** Silent probes sent while the modelled ICMP bucket held a token. */
  confirmedSilences: number;
  observation: Observation | null;
}

export type ProbeOutcome =
  | { kind: 'reply'; rttMs: number; banner?: string }
  | { kind: 'icmp'; rttMs: number; state: PortState; reason: Reason }
  | { kind: 'silent' }
  | { kind: 'local-error' };

/** Where a probe goes, and what its payloads need to know. */
export interface ProbeTarget {
  address: string;
  family: 4 | 6;
  snmpCommunity: string;
}

export interface ProbeEnvironment {
  options: ProbeTarget;
  icmp: IcmpListener | null;
  signal: AbortSignal | undefined;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
export function probeOnce(task: PortTask, timeoutMs: number, environment: ProbeEnvironment): Promise<ProbeOutcome> {
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
