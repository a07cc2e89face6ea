/**
 * Port states as each tool reported them, read back from its saved output, and their
 * comparison with the emulator's truth.
 */
import { parsePortSpec } from '../src/model/port-range.js';
import type { PortRange } from '../src/model/port-range.js';
import { findFoldedState } from '../src/model/host-ports.js';
import type { PortState, Transport } from '../src/model/port-state.js';
import type { ScanResult } from '../src/result/model.js';
import { truthOf } from '../src/emulator/target-plan.js';
import type { PortTruth } from '../src/emulator/target-plan.js';

/** Observed state per port; a port missing from the map was not reported at all. */
export type ObservedStates = Map<number, PortState>;

function portsOf(ranges: readonly PortRange[]): number[] {
  return ranges.flatMap(({ start, end }) => Array.from({ length: end - start + 1 }, (_, index) => start + index));
}

function parseSpec(spec: string): number[] {
  if (spec.trim() === '') return [];
  const parsed = parsePortSpec(spec);
  if (!parsed.ok) throw new Error(`bad port spec in a tool's output: ${spec}: ${parsed.error}`);
  return portsOf(parsed.ranges);
}

/** States from a portmatrix JSON result: listed observations, folded counts for the rest of the plan. */
export function statesFromPortmatrix(result: ScanResult, transport: Transport): ObservedStates {
  const host = result.hosts[0];
  const states: ObservedStates = new Map();
  if (!host) return states;
  for (const observation of host.observations) if (observation.transport === transport) states.set(observation.port, observation.state);
  // One folded state per transport covers every planned port not listed (src/scan/fold.ts).
  const folded = findFoldedState(host.folded, transport);
  if (folded) {
    for (const port of parseSpec(host.plan[transport])) if (!states.has(port)) states.set(port, folded.state);
  }
  return states;
}

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
}

/** States from nmap -oX: <port> elements, and <extraports> whose <extrareasons ports="..."> name the rest. */
export function statesFromNmapXml(xml: string, transport: Transport, planned: readonly number[]): ObservedStates {
  const states: ObservedStates = new Map();
  for (const match of xml.matchAll(/<port protocol="(\w+)" portid="(\d+)">\s*<state ([^>]*)>/g)) {
    if (match[1] !== transport) continue;
    const state = attribute(match[3] ?? '', 'state');
    if (state) states.set(Number(match[2]), state as PortState);
  }
  const extraBlocks = [...xml.matchAll(/<extraports ([^>]*)>([\s\S]*?)<\/extraports>/g)];
  for (const block of extraBlocks) {
    const state = attribute(block[1] ?? '', 'state') as PortState | undefined;
    if (!state) continue;
    const named = [...(block[2] ?? '').matchAll(/<extrareasons ([^>]*)\/>/g)]
      .filter((reason) => (attribute(reason[1] ?? '', 'proto') ?? transport) === transport)
      .map((reason) => attribute(reason[1] ?? '', 'ports'));
    if (named.length > 0 && named.every((ports) => ports !== undefined)) {
      for (const ports of named) for (const port of parseSpec(ports ?? '')) states.set(port, state);
    } else if (extraBlocks.length === 1) {
      for (const port of planned) if (!states.has(port)) states.set(port, state);
    }
  }
  return states;
}

export interface StateErrors {
  count: number;
  /** Of count, errors on ports the matrix documents (the ones conformance is judged on). */
  documented: number;
  /** The first few, for the report: "port: seen X, truth Y". */
  examples: string[];
}

export function compareWithTruth(
  states: ObservedStates,
  truth: PortTruth,
  transport: Transport,
  planned: readonly number[],
  documentedPorts: ReadonlySet<number>,
): StateErrors {
  let count = 0;
  let documented = 0;
  const examples: string[] = [];
  for (const port of planned) {
    const expected = truthOf(truth, transport, port);
    const seen = states.get(port) ?? 'missing';
    if (seen !== expected) {
      count += 1;
      if (documentedPorts.has(port)) documented += 1;
      if (examples.length < 8) examples.push(`${transport}/${port}: seen ${seen}, truth ${expected}`);
    }
  }
  return { count, documented, examples };
}
