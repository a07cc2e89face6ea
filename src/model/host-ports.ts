/**
 * What a host scan says about one port, in one place: a listed observation, else (for a
 * planned port of a complete host) its transport's folded state, else closed. The plan is
 * read as data once per host; a plan that does not parse is a corrupt result, not "not scanned".
 */
import { parsePortSpec, rangesContain, type PortRange } from './port-range.js';
import { portKey, type FoldedPorts, type HostScan, type Observation, type PortState, type Reason, type Transport } from './port-state.js';

export type PortPlan = Record<Transport, PortRange[]>;

/** One port as a scan saw it: the observation, or the folded state it is counted under. */
export interface SeenPort {
  state: PortState;
  reason: Reason;
  banner?: string;
  detail?: string;
  flapping?: true;
}

/** A host's planned ports as ranges. Throws on a spec that does not parse: results are validated when read. */
export function readHostPlan(host: Pick<HostScan, 'plan' | 'address'>): PortPlan {
  const ranges = (transport: Transport): PortRange[] => {
    const spec = host.plan[transport];
    if (spec.trim() === '') return [];
    const parsed = parsePortSpec(spec);
    if (!parsed.ok) throw new Error(`host ${host.address}: ${transport} plan ${JSON.stringify(spec)}: ${parsed.error}`);
    return parsed.ranges;
  };
  return { tcp: ranges('tcp'), udp: ranges('udp') };
}

/**
 * What an unlisted planned port of a complete host was: its transport's folded state, with the
 * reason most of those ports gave. Undefined when nothing of that transport was folded.
 */
export function findFoldedState(folded: readonly FoldedPorts[], transport: Transport): { state: PortState; reason: Reason } | undefined {
  // Sorted by count within a transport by foldObservations, but saved results may come from elsewhere.
  let best: FoldedPorts | undefined;
  for (const entry of folded) {
    if (entry.transport === transport && entry.count > 0 && (!best || entry.count > best.count)) best = entry;
  }
  return best ? { state: best.state, reason: best.reason } : undefined;
}

/**
 * A lookup of what the host scan says about each port; undefined when the port was not
 * planned, or was planned on an incomplete host (never probed, perhaps: unknown, not closed).
 */
export function createPortLookup(host: HostScan): (transport: Transport, port: number) => SeenPort | undefined {
  const observed = new Map<string, Observation>();
  for (const observation of host.observations) observed.set(portKey(observation.transport, observation.port), observation);
  const plan = readHostPlan(host);
  const unlisted: Record<Transport, SeenPort> = { tcp: unlistedState(host, 'tcp'), udp: unlistedState(host, 'udp') };
  return (transport, port) => {
    const observation = observed.get(portKey(transport, port));
    if (observation) return observation;
    if (!host.complete || !rangesContain(plan[transport], port)) return undefined;
    return unlisted[transport];
  };
}

function unlistedState(host: HostScan, transport: Transport): SeenPort {
  return findFoldedState(host.folded, transport) ?? { state: 'closed', reason: transport === 'tcp' ? 'conn-refused' : 'icmp-port-unreach' };
}
