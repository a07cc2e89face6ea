/**
 * How a TCP connect attempt ended -> what it says about the port. Pure and table-driven:
 * one row per outcome, so every state/reason pair the engine can produce is listed here.
 */
import type { PortState, Reason } from '../model/port-state.js';

/**
 * Connect scan: 'connected', 'self-connect', 'timeout', or an errno name (ECONNREFUSED, EHOSTUNREACH ...).
 * SYN scan: 'syn-ack', 'reset', 'icmp' (with its type and code), 'timeout', or the errno name of a failed send.
 */
export type ConnectOutcome = string;

export type Verdict =
  | { kind: 'state'; state: PortState; reason: Reason }
  /** Says nothing about the port: the local host ran out of something. Back off, probe again, do not count the attempt. */
  | { kind: 'local-resource' }
  /** The kernel connected the socket to itself (local address:port == remote): probe again from another local port. */
  | { kind: 'self-connect' }
  /** No answer yet: retry while the allowance lasts, then filtered / no-response. */
  | { kind: 'no-answer' };

const OUTCOMES: Record<string, Verdict> = {
  connected: { kind: 'state', state: 'open', reason: 'syn-ack' },
  ECONNREFUSED: { kind: 'state', state: 'closed', reason: 'conn-refused' },
  ECONNRESET: { kind: 'state', state: 'closed', reason: 'conn-refused' },
  EHOSTUNREACH: { kind: 'state', state: 'filtered', reason: 'host-unreach' },
  ENETUNREACH: { kind: 'state', state: 'filtered', reason: 'net-unreach' },
  EHOSTDOWN: { kind: 'state', state: 'filtered', reason: 'host-unreach' },
  ENONET: { kind: 'state', state: 'filtered', reason: 'host-unreach' },
  ENOPROTOOPT: { kind: 'state', state: 'filtered', reason: 'icmp-proto-unreach' },
  // SYN scan: the answer itself, validated against our sequence number.
  'syn-ack': { kind: 'state', state: 'open', reason: 'syn-ack' },
  reset: { kind: 'state', state: 'closed', reason: 'reset' },
  // An ICMP message outside the unreachable tables below says nothing about the port.
  icmp: { kind: 'no-answer' },
  ETIMEDOUT: { kind: 'no-answer' },
  timeout: { kind: 'no-answer' },
  'self-connect': { kind: 'self-connect' },
  EMFILE: { kind: 'local-resource' },
  ENFILE: { kind: 'local-resource' },
  EADDRNOTAVAIL: { kind: 'local-resource' },
  EADDRINUSE: { kind: 'local-resource' },
  ENOBUFS: { kind: 'local-resource' },
  ENOMEM: { kind: 'local-resource' },
  EAGAIN: { kind: 'local-resource' },
  EWOULDBLOCK: { kind: 'local-resource' },
  EINTR: { kind: 'local-resource' },
  // EACCES: an ICMPv6 admin-prohibited the kernel did not queue (nmap reads it the same way);
  // EPERM: a firewall on the scanning host itself refused the SYN: it says nothing of the
  // target, so it is its own reason (host evidence, src/scan/host-status.ts).
  EACCES: { kind: 'state', state: 'filtered', reason: 'icmp-admin-prohibited' },
  EPERM: { kind: 'state', state: 'filtered', reason: 'send-denied' },
};

/** ICMP destination-unreachable codes (IPv4 type 3) that mean filtered, with their reason. */
const ICMP4_UNREACH: Record<number, Verdict> = {
  0: { kind: 'state', state: 'filtered', reason: 'icmp-net-unreach' },
  1: { kind: 'state', state: 'filtered', reason: 'icmp-host-unreach' },
  2: { kind: 'state', state: 'filtered', reason: 'icmp-proto-unreach' },
  3: { kind: 'state', state: 'closed', reason: 'icmp-port-unreach' },
  9: { kind: 'state', state: 'filtered', reason: 'icmp-net-prohibited' },
  10: { kind: 'state', state: 'filtered', reason: 'icmp-host-prohibited' },
  13: { kind: 'state', state: 'filtered', reason: 'icmp-admin-prohibited' },
};

/** ICMPv6 destination unreachable (type 1) codes. */
const ICMP6_UNREACH: Record<number, Verdict> = {
  0: { kind: 'state', state: 'filtered', reason: 'icmp-net-unreach' },
  1: { kind: 'state', state: 'filtered', reason: 'icmp-admin-prohibited' },
  3: { kind: 'state', state: 'filtered', reason: 'icmp-host-unreach' },
  4: { kind: 'state', state: 'closed', reason: 'icmp-port-unreach' },
  5: { kind: 'state', state: 'filtered', reason: 'icmp-admin-prohibited' },
  6: { kind: 'state', state: 'filtered', reason: 'icmp-admin-prohibited' },
};

export interface IcmpDetail {
  family: 4 | 6;
  type: number;
  code: number;
}

/**
 * Classifies one connect outcome. When the kernel queued the ICMP message that ended the
 * connect, its type and code give the precise reason (admin-prohibited, host-prohibited ...).
 * Unknown errno names are local trouble, never a port state.
 */
export function classifyConnectOutcome(outcome: ConnectOutcome, icmp?: IcmpDetail): Verdict {
  if (icmp) {
    const unreachType = icmp.family === 4 ? 3 : 1;
    const table = icmp.family === 4 ? ICMP4_UNREACH : ICMP6_UNREACH;
    const verdict = icmp.type === unreachType ? table[icmp.code] : undefined;
    if (verdict) return verdict;
  }
  return OUTCOMES[outcome] ?? { kind: 'local-resource' };
}

/** Outcomes the tests and the docs enumerate. */
export const KNOWN_OUTCOMES: readonly string[] = Object.keys(OUTCOMES);
