/**
 * "Since the previous run": a finished run compared with the run before it (the history's latest
 * or a --baseline), for scans and, host by host, for audits. Pure. A previous run judged against
 * another matrix would show every finding as appeared and resolved (other rows, other
 * expectations): its observations are judged again against this run's matrix and policy, so the
 * drift is what changed on the host.
 */
import { judgeHosts } from '../conformance/diff.js';
import { diffResults } from '../conformance/drift.js';
import type { ScanResult, SincePrevious } from '../result/model.js';
import type { ConformanceCheck } from '../run/conformance-check.js';

/** What judging again needs of this run's conformance check. */
export type Judge = Pick<ConformanceCheck, 'expectations' | 'policy' | 'strict'>;

/** The matrix a run was judged against, as the section names it. */
function matrixOf(result: ScanResult): string {
  return result.conformance?.matrix.id ?? 'no matrix';
}

/**
 * `previous` as this run would have judged it: as it is under the same matrix; judged again under
 * this run's check when the matrix differs; without findings when this run has no matrix.
 */
export function judgeLikeCurrent(previous: ScanResult, current: ScanResult, check: Judge | undefined): ScanResult {
  if (matrixOf(previous) === matrixOf(current)) return previous;
  if (!check || !current.conformance) {
    const { conformance: _other, ...observed } = previous;
    return observed;
  }
  const { findings, hostFindings } = judgeHosts({
    expectations: check.expectations,
    hosts: previous.hosts,
    ...(check.policy ? { policy: check.policy } : {}),
    strict: check.strict,
    // This run's moment: a waiver is judged the same on both sides.
    now: new Date(current.startedAt),
    ...(previous.checks ? { services: previous.checks.services } : {}),
  });
  return { ...previous, conformance: { ...current.conformance, findings, hostFindings } };
}

/** The section for `current`'s reports. `check` is the conformance check this run was judged with. */
export function compareWithPrevious(previous: ScanResult, current: ScanResult, source: string, check: Judge | undefined): SincePrevious {
  const [before, after] = [matrixOf(previous), matrixOf(current)];
  const drift = diffResults(judgeLikeCurrent(previous, current, check), current);
  return {
    source,
    ...(before === after ? {} : { matrixChanged: { before, after } }),
    // The previous side keeps the name of the matrix it was judged against when it ran.
    drift: { ...drift, before: { ...drift.before, matrices: previous.conformance ? [previous.conformance.matrix.id] : [] } },
  };
}
