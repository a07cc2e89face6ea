/**
 * The words of a documented port's finding: what was documented, what was seen, and what the
 * user can do about it. Pure; the decision itself is the findings table's.
 */
import type { Expectation } from '../matrix/expectation.js';
import type { ConditionKind, FixedState } from '../matrix/model.js';
import type { FindingRule } from './findings-table.js';

/**
 * 'conditional' / 'localhost-only': a row whose prose condition is not declared; 'either': a
 * conditional State cell not declared. Declared (or --strict), a row is its documented state.
 */
export type EffectiveState = FixedState | 'either' | 'conditional' | 'localhost-only';

/** Where a conditional listener is expected, as a phrase after "expected only". */
const CONDITION_PHRASES: Record<ConditionKind, string> = {
  ha: 'in a high-availability pair',
  'localhost-only': 'for connections from the host itself',
  feature: 'where that feature runs',
  role: 'on a server in that role',
  legacy: 'where an old service still runs (the document marks the port unused or to be closed)',
  'client-side': 'on the client PC, not on the server',
  multicast: 'as a multicast group sent to clients',
};

function describeDocumented(expectation: Expectation): string {
  return typeof expectation.state === 'string' ? expectation.state : `"${expectation.state.conditional}"`;
}

/** The message of a documented port's finding: what was documented, what was seen. */
export function describePortFinding(rule: FindingRule, context: { label: string; observedText: string; state: EffectiveState; expectation: Expectation }): string {
  const { label, observedText, state, expectation } = context;
  const condition = expectation.condition;
  switch (rule.kind) {
    case 'internal-port-exposed':
      if (state === 'localhost-only') return `${label} is documented open only for localhost but is open from the scanner`;
      return `${label} is an intra-device port but is open from the scanner`;
    case 'conditional-listener':
      return `${label} is open; the document expects it only ${condition ? `${CONDITION_PHRASES[condition.kind]} ("${condition.text}"): declare it with --condition ${condition.kind} (or ${expectation.ref.rowId}) if that holds here` : 'under a condition'}`;
    case 'udp-unconfirmed':
      return `${label} is documented open but sent no reply: open or filtered, cannot tell`;
    case 'optional-listener-disabled':
      return `${label} is documented open (optional) but is ${observedText}`;
    case 'missing-listener':
      return `${label} is documented open but is ${observedText}: the listener is missing`;
    case 'filtered-port-reachable':
      return `${label} is documented filtered but accepts connections`;
    case 'optional-listener-enabled':
      return `${label} is documented closed (optional) but is open`;
    case 'extra-listener':
      return `${label} is documented closed and not optional, but is open`;
    default:
      if (rule.internal) return `${label} is an intra-device port and is ${observedText} from outside, as it should be`;
      if ((rule.documented === 'conditional' || rule.documented === 'localhost-only') && condition) {
        return `${label} is ${observedText}: expected only ${CONDITION_PHRASES[condition.kind]} ("${condition.text}"), and that is not declared`;
      }
      if (rule.documented === 'either') {
        return `${label} is documented ${describeDocumented(expectation)} and is ${observedText}; the condition decides, so either is conformant (declare row ${expectation.ref.rowId} under conditions in a policy file, or with --condition, to check it)`;
      }
      if (rule.documented === 'open') return `${label} is open, as documented`;
      return `${label} is ${observedText}; documented ${state}`;
  }
}
