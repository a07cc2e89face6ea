import { describe, expect, it } from 'vitest';
import { findFoldedState } from '../../../src/model/host-ports.js';
import { foldObservations } from '../../../src/scan/fold.js';
import type { Observation, PortState, Reason, Transport } from '../../../src/model/port-state.js';

function seen(transport: Transport, port: number, state: PortState, reason: Reason, banner?: string): Observation {
  return { transport, port, state, reason, rttMs: state === 'filtered' ? null : 0.2, attempts: 1, ...(banner === undefined ? {} : { banner }) };
}

describe('foldObservations', () => {
  it('folds the filtered ports of a hardened host and lists its few closed ones', () => {
    const observations: Observation[] = [];
    for (let port = 1; port <= 65535; port++) {
      if (port === 22 || port === 443) observations.push(seen('tcp', port, 'open', 'syn-ack'));
      else if (port === 113) observations.push(seen('tcp', port, 'closed', 'conn-refused'));
      else if (port % 1000 === 7) observations.push(seen('tcp', port, 'filtered', 'icmp-admin-prohibited'));
      else observations.push(seen('tcp', port, 'filtered', 'no-response'));
    }
    const { observations: listed, folded } = foldObservations(observations.reverse());
    expect(listed.map((observation) => `${observation.port} ${observation.state}`)).toEqual(['22 open', '113 closed', '443 open']);
    // One folded state, two reasons, the larger first; every port is in exactly one of the two.
    expect(folded).toEqual([
      { transport: 'tcp', state: 'filtered', reason: 'no-response', count: 65532 - 66 },
      { transport: 'tcp', state: 'filtered', reason: 'icmp-admin-prohibited', count: 66 },
    ]);
    expect(listed.length + folded.reduce((sum, entry) => sum + entry.count, 0)).toBe(65535);
  });

  it('picks the state per transport and never folds open, open|filtered or a port with a banner', () => {
    const { observations, folded } = foldObservations([
      seen('udp', 161, 'open', 'udp-response', 'Linux pbx'),
      seen('udp', 5060, 'open|filtered', 'no-response'),
      seen('udp', 69, 'closed', 'icmp-port-unreach'),
      seen('udp', 123, 'closed', 'icmp-port-unreach'),
      seen('udp', 514, 'filtered', 'icmp-admin-prohibited'),
      seen('tcp', 21, 'filtered', 'no-response'),
      seen('tcp', 23, 'closed', 'conn-refused', 'refused with text'),
      seen('tcp', 25, 'filtered', 'no-response'),
      seen('tcp', 26, 'closed', 'conn-refused'),
    ]);
    expect(folded).toEqual([
      { transport: 'tcp', state: 'filtered', reason: 'no-response', count: 2 },
      { transport: 'udp', state: 'closed', reason: 'icmp-port-unreach', count: 2 },
    ]);
    expect(observations.map((observation) => `${observation.transport}/${observation.port} ${observation.state}`)).toEqual([
      'tcp/23 closed',
      'tcp/26 closed',
      'udp/161 open',
      'udp/514 filtered',
      'udp/5060 open|filtered',
    ]);
  });

  it('folds closed on a tie, as before', () => {
    const { folded } = foldObservations([seen('tcp', 1, 'filtered', 'no-response'), seen('tcp', 2, 'closed', 'conn-refused')]);
    expect(folded).toEqual([{ transport: 'tcp', state: 'closed', reason: 'conn-refused', count: 1 }]);
  });
});

describe('findFoldedState', () => {
  it("gives the transport's folded state with its most common reason", () => {
    const folded = [
      { transport: 'tcp' as const, state: 'filtered' as const, reason: 'icmp-admin-prohibited' as const, count: 3 },
      { transport: 'tcp' as const, state: 'filtered' as const, reason: 'no-response' as const, count: 900 },
      { transport: 'udp' as const, state: 'closed' as const, reason: 'icmp-port-unreach' as const, count: 4 },
    ];
    expect(findFoldedState(folded, 'tcp')).toEqual({ state: 'filtered', reason: 'no-response' });
    expect(findFoldedState(folded, 'udp')).toEqual({ state: 'closed', reason: 'icmp-port-unreach' });
    expect(findFoldedState(folded.slice(0, 2), 'udp')).toBeUndefined();
  });
});
