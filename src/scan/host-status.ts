/**
 * Host status, decided once per host from the reasons its ports got (nmap decides "Host seems
 * down" before it reports ports; -Pn is --assume-up). Pure and table-driven: each reason is
 * evidence of one kind, and the strongest kind present decides.
 *
 * EHOSTUNREACH is not proof of absence on its own: Linux also reports an ICMP admin-prohibited
 * from the target's own firewall as EHOSTUNREACH on a connected socket. So any port that
 * answered open or closed makes the host up, whatever else was seen; only a host where no port
 * answered is down or unreachable.
 */
import type { FoldedPorts, HostReason, HostStatus, Observation, Reason } from '../model/port-state.js';

type Evidence = 'answer' | 'send-denied' | 'net-unreach' | 'host-unreach' | 'silence';

const EVIDENCE: Record<Reason, Evidence> = {
  'syn-ack': 'answer',
  'conn-refused': 'answer',
  reset: 'answer',
  'udp-response': 'answer',
  'icmp-port-unreach': 'answer',
  // Read from the ICMP code (raw socket): the target's stack or its firewall answered for it.
  'icmp-proto-unreach': 'answer',
  'icmp-admin-prohibited': 'answer',
  'icmp-host-prohibited': 'answer', // RHEL's default REJECT rule: the host's own firewall

  'icmp-host-unreach': 'host-unreach',
  'host-unreach': 'host-unreach',
  'icmp-net-unreach': 'net-unreach',
  'icmp-net-prohibited': 'net-unreach',
  'net-unreach': 'net-unreach',
  'send-denied': 'send-denied',
  'no-response': 'silence',
};

/** Strongest first: one answer proves the host is there; a local refusal explains all silence. */
const VERDICTS: [Evidence, HostStatus][] = [
  ['answer', { state: 'up', reason: 'port-answered' }],
  ['send-denied', { state: 'unreachable', reason: 'send-denied' }],
  ['net-unreach', { state: 'unreachable', reason: 'net-unreach' }],
  ['host-unreach', { state: 'down', reason: 'host-unreach' }],
  ['silence', { state: 'down', reason: 'no-response' }],
];

export function decideHostStatus(ports: { observations: readonly Observation[]; folded: readonly FoldedPorts[] }, options: { assumeUp?: boolean } = {}): HostStatus {
  const seen = new Set<Evidence>();
  for (const observation of ports.observations) seen.add(EVIDENCE[observation.reason]);
  for (const folded of ports.folded) if (folded.count > 0) seen.add(EVIDENCE[folded.reason]);
  const status = VERDICTS.find(([evidence]) => seen.has(evidence))?.[1] ?? { state: 'down', reason: 'no-response' };
  return assume(status, options.assumeUp === true);
}

/** A host the routing table cannot reach: no probe was sent (unless --assume-up scans it anyway). */
export function noRouteStatus(options: { assumeUp?: boolean } = {}): HostStatus {
  return assume({ state: 'unreachable', reason: 'no-route' }, options.assumeUp === true);
}

function assume(status: HostStatus, assumeUp: boolean): HostStatus {
  return status.state === 'up' || !assumeUp ? { ...status } : { state: 'up', reason: status.reason, assumed: true };
}

/** The exit code when some host could not be judged (down or unreachable), whatever the findings. */
export const EXIT_HOST_NOT_JUDGED = 3;

/** One line for a human: what the status means for the findings. */
export function describeHostStatus(status: HostStatus): string {
  return HOST_REASON_TEXT[status.reason] + (status.assumed ? '; judged anyway (--assume-up)' : '');
}

const HOST_REASON_TEXT: Record<HostReason, string> = {
  'port-answered': 'a port answered',
  'no-response': 'no answer to any probe: down, or filtered at every port',
  'host-unreach': 'host unreachable (no ARP/NDP answer or an ICMP host unreachable) and no port answered',
  'no-route': 'no route to the address from this machine: no probe was sent',
  'net-unreach': 'network unreachable and no port answered',
  'send-denied': 'a firewall on this machine refused to send the probes',
};
