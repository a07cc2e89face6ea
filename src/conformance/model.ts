import type { ExpectationRef } from '../matrix/expectation.js';
import type { DocumentedState } from '../matrix/model.js';
import type { PortState, Reason, Transport } from '../scan/model.js';

export type FindingKind =
  | 'missing-listener'
  | 'optional-listener-disabled'
  | 'optional-listener-enabled'
  | 'filtered-port-reachable'
  | 'internal-port-exposed'
  | 'extra-listener'
  | 'dynamic-port-open'
  | 'udp-unconfirmed'
  | 'listener-moved'
  | 'conformant';

export type Severity = 'error' | 'warning' | 'notice' | 'off';
export type FailOn = 'error' | 'warning' | 'notice' | 'never';

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  host: string;
  transport: Transport;
  port: number;
  expected: DocumentedState | 'not documented';
  observed: PortState;
  reason: Reason;
  /** The matrix row the finding is about; absent only for extra listeners outside every row. */
  ref?: ExpectationRef;
  /** One sentence for a human: what deviates and why it matters. */
  message: string;
  /** Set when a policy waiver accepted this finding (its severity is then 'off'). */
  waiver?: { reason: string; ticket?: string; expires: string };
  banner?: string;
}
