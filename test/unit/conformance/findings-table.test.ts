/**
 * The findings table (src/conformance/findings-table.ts): the design notes' rows checked by hand,
 * and one case generated from every row of the table run through the whole conformance walk
 * (lookup of listed and folded ports, severities), so the walk cannot drift from the table.
 */
import { describe, expect, it } from 'vitest';
import { checkConformance } from '../../../src/conformance/diff.js';
import { FINDINGS_TABLE, lookUpFinding, type FindingCase, type FindingRule, type ObservedClass } from '../../../src/conformance/findings-table.js';
import { DEFAULT_SEVERITIES } from '../../../src/conformance/policy.js';
import type { Expectation } from '../../../src/matrix/expectation.js';
import type { HostScan, Observation, PortState } from '../../../src/model/port-state.js';

const PORT = 5060;
const NOW = new Date('2025-06-01T12:00:00Z');

/** design.md "Findings": (documented, optional, internal, dynamic, observed) -> (kind, default severity). */
const DESIGN_ROWS: [Partial<FindingCase>, ObservedClass, string, string][] = [
  [{ documented: 'open', optional: false }, 'dark', 'missing-listener', 'error'],
  [{ documented: 'open', optional: true }, 'dark', 'optional-listener-disabled', 'notice'],
  [{ documented: 'closed', optional: true }, 'open', 'optional-listener-enabled', 'warning'],
  [{ documented: 'filtered' }, 'open', 'filtered-port-reachable', 'warning'],
  [{ documented: 'open', internal: true }, 'open', 'internal-port-exposed', 'warning'],
  [{ documented: 'open', internal: true }, 'dark', 'conformant', 'off'],
  [{ documented: 'undocumented', dynamic: false }, 'open', 'extra-listener', 'error'],
  [{ documented: 'undocumented', dynamic: true }, 'open', 'dynamic-port-open', 'notice'],
  [{ documented: 'open' }, 'open|filtered', 'udp-unconfirmed', 'notice'],
  [{ documented: 'open' }, 'open', 'conformant', 'off'],
  [{ documented: 'closed' }, 'dark', 'conformant', 'off'],
  [{ documented: 'filtered' }, 'dark', 'conformant', 'off'],
];

function fullCase(partial: Partial<FindingCase>, observed: ObservedClass): FindingCase {
  return { documented: 'open', optional: false, internal: false, dynamic: false, ...partial, observed };
}

/** A concrete case that the rule matches (its "any" and unset fields filled in). */
function caseOf(rule: FindingRule): FindingCase {
  return fullCase(
    {
      documented: rule.documented === 'any' ? 'open' : rule.documented,
      ...(rule.optional === undefined ? {} : { optional: rule.optional }),
      ...(rule.internal === undefined ? {} : { internal: rule.internal }),
      ...(rule.dynamic === undefined ? {} : { dynamic: rule.dynamic }),
    },
    rule.observed === 'any' ? 'dark' : rule.observed,
  );
}

/** The case as a matrix row and a host that shows it; the port is UDP when the case needs UDP silence. */
function scenario(query: FindingCase): { expectations: Expectation[]; host: HostScan } {
  const transport = query.observed === 'open|filtered' ? 'udp' : 'tcp';
  const documented = query.documented;
  const expectations: Expectation[] =
    documented === 'undocumented'
      ? query.dynamic
        ? [{ transport, start: PORT - 10, end: PORT + 10, state: 'closed', optional: false, dynamic: true, internal: false, protocol: 'RTP', component: 'c', description: '', ref: { matrix: 'm', document: 'd', rowId: 'media', table: 't', row: '1' } }]
        : []
      : [
          {
            transport,
            start: PORT,
            end: PORT,
            state: documented === 'either' ? { conditional: 'Open if HA' } : documented,
            optional: query.optional,
            dynamic: false,
            internal: query.internal,
            protocol: 'SIP',
            component: 'c',
            description: '',
            ref: { matrix: 'm', document: 'd', rowId: 'row', table: 't', row: '1' },
          },
        ];
  const state: PortState = query.observed === 'dark' ? 'closed' : query.observed;
  const observation: Observation = { transport, port: PORT, state, reason: state === 'open' ? 'syn-ack' : state === 'closed' ? 'conn-refused' : 'no-response', rttMs: 1, attempts: 1 };
  return {
    expectations,
    host: { target: '198.18.0.2', address: '198.18.0.2', family: 4, plan: { tcp: String(PORT), udp: String(PORT) }, observations: [observation], folded: [], complete: true, status: { state: 'up', reason: 'port-answered' } },
  };
}

function judge(query: FindingCase): { kind: string; severity: string } | undefined {
  const { expectations, host } = scenario(query);
  const found = checkConformance({ expectations, hosts: [host], now: NOW }).find((finding) => finding.port === PORT);
  return found && { kind: found.kind, severity: found.severity };
}

describe('findings table', () => {
  it.each(DESIGN_ROWS)('design.md: %o observed %s -> %s (%s)', (partial, observed, kind, severity) => {
    const query = fullCase(partial, observed);
    expect(lookUpFinding(query)?.kind).toBe(kind);
    expect(DEFAULT_SEVERITIES[kind as keyof typeof DEFAULT_SEVERITIES]).toBe(severity);
    expect(judge(query)).toEqual({ kind, severity });
  });

  it.each(FINDINGS_TABLE.map((rule, index) => [index, rule] as const))('row %i is what the walk reports: %o', (_index, rule) => {
    const query = caseOf(rule);
    expect(lookUpFinding(query)).toBe(rule);
    expect(judge(query)?.kind).toBe(rule.kind);
  });

  it('an undocumented port that is dark is no finding at all', () => {
    expect(lookUpFinding(fullCase({ documented: 'undocumented' }, 'dark'))).toBeUndefined();
    expect(judge(fullCase({ documented: 'undocumented' }, 'dark'))).toBeUndefined();
  });
});
