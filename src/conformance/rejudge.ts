/**
 * Re-judging a saved result (`portmatrix report --policy --fail-on`): its observations and the
 * expectations it was judged against stay; findings are decided again under another policy,
 * --strict or --fail-on, at another moment (waivers expire). Scans need not be repeated. Pure.
 */
import type { ScanResult } from '../result/model.js';
import { judgeHosts } from './diff.js';
import type { FailOn } from './model.js';
import type { Policy } from './policy.js';

export interface RejudgeOptions {
  /** Replaces the policy the result was judged under; absent: the defaults (no waivers). */
  policy?: Policy;
  strict: boolean;
  failOn: FailOn;
  now: Date;
}

/** The result with its findings decided again; a result without a conformance check is returned as is. */
export function rejudgeResult(result: ScanResult, options: RejudgeOptions): ScanResult {
  const conformance = result.conformance;
  if (!conformance) return result;
  const { findings, hostFindings } = judgeHosts({
    expectations: conformance.expectations,
    hosts: result.hosts,
    ...(options.policy ? { policy: options.policy } : {}),
    strict: options.strict,
    now: options.now,
    // The service checks' findings are judged again too (they were dropped before).
    ...(result.checks ? { services: result.checks.services } : {}),
  });
  const { conditions: _previous, ...rest } = conformance;
  const conditions = options.policy?.conditions ?? [];
  // The "since the previous run" section compared the findings as they were judged: it would be stale.
  const { sincePrevious: _stale, ...judged } = result;
  return { ...judged, conformance: { ...rest, ...(conditions.length > 0 ? { conditions } : {}), failOn: options.failOn, findings, hostFindings } };
}
