/**
 * The findings table of the design notes (docs: expected x observed -> finding), as data: one
 * row per case, first match wins. The conformance walk (diff.ts) looks every port up here and
 * only adds what the table cannot hold: a port another row documents as a listener, a listener
 * that moved within its configurable range, and the second look on open ports. Pure.
 */
import type { FindingKind } from './model.js';

/**
 * A documented state as the walk sees it: 'either' when a conditional State cell decides and is not
 * known to hold; 'conditional' / 'localhost-only' when a condition read from the row's prose is not
 * declared (src/conformance/diff.ts effectiveState).
 */
export type DocumentedClass = 'open' | 'closed' | 'filtered' | 'either' | 'conditional' | 'localhost-only' | 'undocumented';

/** What the scan saw: an answer, no connectivity (closed or filtered), or UDP silence. */
export type ObservedClass = 'open' | 'dark' | 'open|filtered';

export interface FindingRule {
  documented: DocumentedClass | 'any';
  optional?: boolean;
  internal?: boolean;
  /** Undocumented ports: inside a dynamic media range. */
  dynamic?: boolean;
  observed: ObservedClass | 'any';
  kind: FindingKind;
  /** The deviation rests on an open port: a second look that did not confirm it, or a host that answers everything, overrules it. */
  restsOnOpenPort?: true;
}

export const FINDINGS_TABLE: readonly FindingRule[] = [
  // Intra-device ports should be dark from outside.
  { documented: 'any', internal: true, observed: 'open', kind: 'internal-port-exposed', restsOnOpenPort: true },
  { documented: 'any', internal: true, observed: 'any', kind: 'conformant' },
  // Open only for localhost: dark from outside, as on the real product; open from the scanner, exposed.
  { documented: 'localhost-only', observed: 'open', kind: 'internal-port-exposed', restsOnOpenPort: true },
  { documented: 'localhost-only', observed: 'any', kind: 'conformant' },
  // Expected only under a condition nobody declared (HA, a feature or role, a legacy port ...):
  // absent is conformant; present, a notice that names the condition.
  { documented: 'conditional', observed: 'open', kind: 'conditional-listener', restsOnOpenPort: true },
  { documented: 'conditional', observed: 'any', kind: 'conformant' },
  // A condition that is not known to hold ("Open if HA"): either state is conformant.
  { documented: 'either', observed: 'any', kind: 'conformant' },
  { documented: 'open', observed: 'open', kind: 'conformant' },
  { documented: 'open', observed: 'open|filtered', kind: 'udp-unconfirmed' },
  { documented: 'open', optional: true, observed: 'dark', kind: 'optional-listener-disabled' },
  { documented: 'open', optional: false, observed: 'dark', kind: 'missing-listener' },
  // Closed and filtered both mean "no connectivity": never a finding by themselves.
  { documented: 'closed', observed: 'dark', kind: 'conformant' },
  { documented: 'closed', observed: 'open|filtered', kind: 'conformant' },
  { documented: 'filtered', observed: 'dark', kind: 'conformant' },
  { documented: 'filtered', observed: 'open|filtered', kind: 'conformant' },
  { documented: 'filtered', observed: 'open', kind: 'filtered-port-reachable', restsOnOpenPort: true },
  { documented: 'closed', optional: true, observed: 'open', kind: 'optional-listener-enabled', restsOnOpenPort: true },
  { documented: 'closed', optional: false, observed: 'open', kind: 'extra-listener', restsOnOpenPort: true },
  { documented: 'undocumented', dynamic: true, observed: 'open', kind: 'dynamic-port-open', restsOnOpenPort: true },
  { documented: 'undocumented', dynamic: false, observed: 'open', kind: 'extra-listener', restsOnOpenPort: true },
];

export interface FindingCase {
  documented: DocumentedClass;
  optional: boolean;
  internal: boolean;
  dynamic: boolean;
  observed: ObservedClass;
}

/** The first row that matches; undefined for a case the table does not judge (an undocumented dark port). */
export function lookUpFinding(query: FindingCase): FindingRule | undefined {
  return FINDINGS_TABLE.find(
    (rule) =>
      (rule.documented === 'any' || rule.documented === query.documented) &&
      (rule.optional === undefined || rule.optional === query.optional) &&
      (rule.internal === undefined || rule.internal === query.internal) &&
      (rule.dynamic === undefined || rule.dynamic === query.dynamic) &&
      (rule.observed === 'any' || rule.observed === query.observed),
  );
}

export function classifyObserved(state: 'open' | 'closed' | 'filtered' | 'open|filtered'): ObservedClass {
  return state === 'open' || state === 'open|filtered' ? state : 'dark';
}
