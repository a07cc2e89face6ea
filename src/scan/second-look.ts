/**
 * Second look (after naabu's -verify): before an open TCP port that no row documents as a
 * listener is reported (extra listener, internal port exposed, filtered port reachable ...), it is
 * probed once more after the main pass, with the same scan type, caps and retries. A port that
 * does not answer open again is marked flapping: a listener that came and went, or an answer
 * that was not what it seemed, is not reported as an extra listener.
 */
import type { ScanCaps } from '../defaults.js';
import { rangesContain, type PortRange } from '../model/port-range.js';
import type { Observation } from '../model/port-state.js';
import type { ProberKind } from './probes/connect-prober.js';
import { scanTcp, type TcpScanType } from './probes/tcp.js';

/** Open TCP ports outside the documented listeners (src/matrix/documented-ports.ts documentedTcpListeners). Pure. */
export function selectSecondLookPorts(observations: readonly Observation[], documentedListeners: readonly PortRange[]): number[] {
  return observations
    .filter((observation) => observation.transport === 'tcp' && observation.state === 'open')
    .map((observation) => observation.port)
    .filter((port) => !rangesContain(documentedListeners, port));
}

export interface SecondLookOptions {
  address: string;
  family: 4 | 6;
  ports: readonly number[];
  caps: ScanCaps;
  maxInFlight: number;
  scanType: TcpScanType;
  prober?: ProberKind;
  signal?: AbortSignal;
}

export interface SecondLook {
  /** The ports looked at again, and those of them that did not answer open. */
  ports: number;
  flapping: number;
  durationMs: number;
  /** False when the look was interrupted: nothing is marked then. */
  complete: boolean;
  /** The main pass's observations, flapping ones marked with what the second look saw. */
  observations: Observation[];
}

export async function takeSecondLook(observations: readonly Observation[], options: SecondLookOptions): Promise<SecondLook> {
  const started = performance.now();
  const again = await scanTcp({
    address: options.address,
    family: options.family,
    ports: options.ports.map((port) => ({ start: port, end: port })),
    caps: options.caps,
    maxInFlight: Math.max(1, Math.min(options.maxInFlight, options.ports.length)),
    scanType: options.scanType,
    ...(options.prober ? { prober: options.prober } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
  if (!again.complete) return { ports: options.ports.length, flapping: 0, durationMs, complete: false, observations: [...observations] };
  const seenAgain = new Map(again.observations.map((observation) => [observation.port, observation]));
  let flapping = 0;
  const marked = observations.map((observation): Observation => {
    const second = observation.transport === 'tcp' ? seenAgain.get(observation.port) : undefined;
    if (!second || second.state === 'open') return observation;
    flapping++;
    return { ...observation, flapping: true, detail: `was open on the main pass, ${second.state} (${second.reason}) on a second look` };
  });
  return { ports: options.ports.length, flapping, durationMs, complete: true, observations: marked };
}
