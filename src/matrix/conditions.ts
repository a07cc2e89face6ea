/**
 * Conditions declared to hold on a scanned host (policy `conditions:`, --condition): a condition
 * kind ("ha": every high-availability row), a row id ("ccmm-11": that row only), or "*" (all).
 * Pure.
 */
import type { Expectation } from './expectation.js';

/** True when the row's condition (or its conditional State, "Open if HA") is declared to hold. */
export function conditionHolds(expectation: Pick<Expectation, 'condition' | 'ref'>, declared: ReadonlySet<string>): boolean {
  return declared.has('*') || declared.has(expectation.ref.rowId) || (expectation.condition !== undefined && declared.has(expectation.condition.kind));
}
