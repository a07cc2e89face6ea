/**
 * "Forged answers are not open ports": a SYN proxy or middlebox that answers SYN-ACK on every port
 * would turn a whole port range into extra listeners. Decided once per host after the main pass,
 * from what the TCP scan saw; the conformance step then reports one host-level finding instead of
 * thousands of extra listeners. Pure.
 */
import { ANSWERS_EVERYTHING } from '../defaults.js';
import type { AnswersEverything, Observation } from '../model/port-state.js';

export interface TcpAnswerCounts {
  observations: readonly Observation[];
  scannedPorts: number;
  /** SYN scan: answers that failed validation (0 for a connect scan, which cannot see them). */
  invalidAnswers: number;
  probesSent: number;
}

export function detectAnswersEverything(counts: TcpAnswerCounts, thresholds = ANSWERS_EVERYTHING): AnswersEverything | null {
  const openPorts = counts.observations.filter((observation) => observation.transport === 'tcp' && observation.state === 'open').length;
  const mostlyOpen = openPorts >= thresholds.minOpenPorts && openPorts > thresholds.openShare * counts.scannedPorts;
  const forged = counts.invalidAnswers >= thresholds.minInvalidAnswers && counts.invalidAnswers > thresholds.invalidShare * counts.probesSent;
  if (!mostlyOpen && !forged) return null;
  return { transport: 'tcp', openPorts, scannedPorts: counts.scannedPorts, invalidAnswers: counts.invalidAnswers };
}
