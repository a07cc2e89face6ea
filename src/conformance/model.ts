import type { ExpectationRef } from '../matrix/expectation.js';
import type { DocumentedState } from '../matrix/model.js';
import type { HostStatus, PortState, Reason, Transport } from '../model/port-state.js';

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
  | 'service-mismatch'
  | 'service-no-answer'
  | 'tls-below-floor'
  | 'certificate-expired'
  | 'certificate-expiring'
  | 'certificate-self-signed'
  | 'certificate-name-mismatch'
  | 'port-flapping'
  | 'answers-everything'
  | 'conditional-listener'
  | 'conformant';

export type Severity = 'error' | 'warning' | 'notice' | 'off';
export type FailOn = 'error' | 'warning' | 'notice' | 'never';

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** The host's address (HostScan.address): a CIDR block or a name is several hosts. */
  host: string;
  transport: Transport;
  /** 0 for a finding about the whole host (answers-everything): every port of the transport. */
  port: number;
  expected: DocumentedState | 'not documented';
  observed: PortState;
  reason: Reason;
  /** The matrix row the finding is about; absent only for extra listeners outside every row. */
  ref?: ExpectationRef;
  /** One sentence for a human: what deviates and why it matters. */
  message: string;
  /** Component of the matrix row (absent for extra listeners outside every row). */
  component?: string;
  /**
   * A policy waiver that matched this finding. While it holds, the severity is 'off';
   * an expired waiver stays attached with expired: true and no longer suppresses anything.
   */
  waiver?: { reason: string; ticket?: string; expires: string; expired?: boolean };
  /** listener-moved: the open port inside the row's configurable range that probably took over. */
  movedTo?: { port: number; state: PortState; reason: Reason; banner?: string };
  banner?: string;
  /** The observation's detail (src/model/port-state.ts), e.g. why a UDP port stayed open|filtered. */
  detail?: string;
}

/**
 * A host that was not there to judge (down or unreachable): one finding of its own instead of a
 * "missing listener" for every documented port. At error (the default) the run exits 3; a policy
 * may lower it (`severities: {host-not-up: notice}`: a site known to be down for maintenance),
 * and it then counts at --fail-on like any finding.
 */
export interface HostFinding {
  kind: 'host-not-up';
  severity: Severity;
  /** The host's address. */
  host: string;
  status: HostStatus;
  message: string;
}

export const FINDING_KINDS: readonly FindingKind[] = [
  'missing-listener',
  'optional-listener-disabled',
  'optional-listener-enabled',
  'filtered-port-reachable',
  'internal-port-exposed',
  'extra-listener',
  'dynamic-port-open',
  'udp-unconfirmed',
  'listener-moved',
  'service-mismatch',
  'service-no-answer',
  'tls-below-floor',
  'certificate-expired',
  'certificate-expiring',
  'certificate-self-signed',
  'certificate-name-mismatch',
  'port-flapping',
  'answers-everything',
  'conditional-listener',
  'conformant',
];

/** Findings of the service checks (src/checks/): about what answers on a port, not whether it is open. */
export const SERVICE_FINDING_KINDS: ReadonlySet<FindingKind> = new Set([
  'service-mismatch',
  'service-no-answer',
  'tls-below-floor',
  'certificate-expired',
  'certificate-expiring',
  'certificate-self-signed',
  'certificate-name-mismatch',
]);
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'notice', 'off'];
export const FAIL_ON_LEVELS: readonly FailOn[] = ['error', 'warning', 'notice', 'never'];
