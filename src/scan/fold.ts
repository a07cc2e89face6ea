/** Folds closed ports into counts, as nmap does ("Not shown: 65516 closed tcp ports (conn-refused)"). Pure. */
import type { FoldedPorts, Observation } from './model.js';

export function foldObservations(observations: readonly Observation[]): { observations: Observation[]; folded: FoldedPorts[] } {
  const kept: Observation[] = [];
  const counts = new Map<string, FoldedPorts>();
  for (const observation of observations) {
    if (observation.state !== 'closed' || observation.banner !== undefined) {
      kept.push(observation);
      continue;
    }
    const key = `${observation.transport}/${observation.reason}`;
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { transport: observation.transport, state: 'closed', reason: observation.reason, count: 1 });
  }
  kept.sort((a, b) => (a.transport === b.transport ? a.port - b.port : a.transport < b.transport ? -1 : 1));
  const folded = [...counts.values()].sort((a, b) => (a.transport === b.transport ? a.reason.localeCompare(b.reason) : a.transport < b.transport ? -1 : 1));
  return { observations: kept, folded };
}
