import type { Condition, DocumentedState, RowRef } from './model.js';
import type { PortRange } from '../model/port-range.js';
import type { Transport } from '../model/port-state.js';

/** Where an expectation comes from, precise enough for an auditor to look it up. */
export interface ExpectationRef extends RowRef {
  matrix: string;
  document: string;
  rowId: string;
}

/**
 * One concrete expected listener (or dark port) on the scanned host, from one matrix row.
 * Non-dynamic rows give one expectation per port (start === end); dynamic media ranges stay ranges.
 */
export interface Expectation {
  transport: Transport;
  start: number;
  end: number;
  state: DocumentedState;
  optional: boolean;
  dynamic: boolean;
  /** Expected only when this holds (declared with policy `conditions:` or --condition); absent is conformant. */
  condition?: Condition;
  /** Intra-device: should not be reachable from outside. */
  internal: boolean;
  /** Where the port may have been moved to, when the document says it is configurable. */
  configurable?: PortRange[];
  protocol: string;
  component: string;
  description: string;
  ref: ExpectationRef;
}

export interface Selection {
  matrix: string;
  components: string[];
  platform: string;
}
