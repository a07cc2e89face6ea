/**
 * What a selection documents, as plain port data for the scan plan (the scan stage never reads
 * matrix rows): the documented listeners per transport, and per UDP port the protocol a row
 * names there. Pure.
 */
import type { PortRange } from '../model/port-range.js';
import type { Transport } from '../model/port-state.js';
import type { Expectation } from './expectation.js';

/** Documented ports of one transport; dynamic media ranges are not probed one by one. */
export function documentedPortRanges(expectations: readonly Expectation[], transport: Transport): PortRange[] {
  return expectations.filter((expectation) => expectation.transport === transport && !expectation.dynamic).map(({ start, end }) => ({ start, end }));
}

/** The documented UDP listeners of a selection, sorted, each once. */
export function documentedUdpPorts(expectations: readonly Expectation[]): number[] {
  const ports = new Set<number>();
  for (const { start, end } of documentedPortRanges(expectations, 'udp')) {
    for (let port = start; port <= end; port++) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * Per UDP port to be scanned: the protocol text of the row that documents it (a fixed row wins
 * over a dynamic range around it) and whether a fixed row documents it at all.
 */
export function udpPortHints(expectations: readonly Expectation[], ports: readonly number[]): Map<number, { protocol?: string; documented: boolean }> {
  const udpRows = expectations.filter((row) => row.transport === 'udp');
  const hints = new Map<number, { protocol?: string; documented: boolean }>();
  for (const port of ports) {
    const rows = udpRows.filter((row) => port >= row.start && port <= row.end);
    const fixed = rows.find((row) => !row.dynamic);
    const row = fixed ?? rows[0];
    if (row) hints.set(port, { protocol: row.protocol, documented: fixed !== undefined });
  }
  return hints;
}

/**
 * TCP ranges that an external, non-dynamic row documents as a listener (open or conditional):
 * an open port outside them would be reported, so the scan looks at it twice first.
 */
export function documentedTcpListeners(expectations: readonly Expectation[]): PortRange[] {
  return expectations
    .filter((expectation) => expectation.transport === 'tcp' && !expectation.internal && !expectation.dynamic && (expectation.state === 'open' || typeof expectation.state === 'object'))
    .map(({ start, end }) => ({ start, end }));
}
