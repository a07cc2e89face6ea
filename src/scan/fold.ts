/**
 * Folds the most common dark state of each transport into counts, as nmap does ("Not shown:
 * 65532 filtered tcp ports (no-response)"), so a hardened host is three lines, not 65k. Pure.
 *
 * Per transport only ONE state is folded (closed or filtered, whichever is more common; closed
 * on a tie), possibly under several reasons; every other port is listed. Open and open|filtered
 * ports, and ports that carry a banner or a detail, are never folded: they are what a reader
 * looks for. So an unlisted planned port of a complete host has its transport's folded state.
 */
import type { FoldedPorts, Observation, PortState, Transport } from '../model/port-state.js';

export type FoldableState = Extract<PortState, 'closed' | 'filtered'>;

function isFoldable(observation: Observation): observation is Observation & { state: FoldableState } {
  return (observation.state === 'closed' || observation.state === 'filtered') && observation.banner === undefined && observation.detail === undefined;
}

export function foldObservations(observations: readonly Observation[]): { observations: Observation[]; folded: FoldedPorts[] } {
  const tally = new Map<Transport, Record<FoldableState, number>>();
  for (const observation of observations) {
    if (!isFoldable(observation)) continue;
    const counts = tally.get(observation.transport) ?? { closed: 0, filtered: 0 };
    counts[observation.state] += 1;
    tally.set(observation.transport, counts);
  }
  const foldedState = new Map<Transport, FoldableState>();
  for (const [transport, counts] of tally) foldedState.set(transport, counts.filtered > counts.closed ? 'filtered' : 'closed');

  const kept: Observation[] = [];
  const entries = new Map<string, FoldedPorts>();
  for (const observation of observations) {
    if (!isFoldable(observation) || foldedState.get(observation.transport) !== observation.state) {
      kept.push(observation);
      continue;
    }
    const key = `${observation.transport}/${observation.reason}`;
    const entry = entries.get(key);
    if (entry) entry.count++;
    else entries.set(key, { transport: observation.transport, state: observation.state, reason: observation.reason, count: 1 });
  }
  kept.sort((a, b) => (a.transport === b.transport ? a.port - b.port : a.transport < b.transport ? -1 : 1));
  const folded = [...entries.values()].sort((a, b) => (a.transport === b.transport ? b.count - a.count || a.reason.localeCompare(b.reason) : a.transport < b.transport ? -1 : 1));
  return { observations: kept, folded };
}
