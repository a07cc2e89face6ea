/**
 * The one place a run's exit code is decided (the CLI only sets it). 0 conformant at --fail-on
 * (always 0 without a matrix), 1 findings at or above it, 128+signal when a stop signal ended it
 * (130 SIGINT, 143 SIGTERM, 129 SIGHUP; 130 for any other abort); 2 and 3 come from
 * PortmatrixError before or during the scan (src/errors.ts), 70 from a bug (src/cli/run-cli.ts).
 */
import type { ScanResult } from '../result/model.js';
import { conformanceExitCode } from './conformance-check.js';
import type { HostVerdict } from './host-status.js';
import { exitCodeForSignal, STOP_SIGNALS, type StopSignal } from '../util/stop-signals.js';

export const EXIT_INTERRUPTED = 130;

/** 0, 1, or 128+signal (see above). */
export type RunExitCode = number;

/**
 * `stoppedBy` is the abort signal's reason: a stop signal's name gives its own code. The host
 * verdicts are where a run with a host down or unreachable will turn into exit 3.
 */
export function decideExitCode(result: ScanResult, _hosts: readonly HostVerdict[], stoppedBy?: unknown): RunExitCode {
  if (!result.complete) return isStopSignal(stoppedBy) ? exitCodeForSignal(stoppedBy) : EXIT_INTERRUPTED;
  return conformanceExitCode(result);
}

function isStopSignal(reason: unknown): reason is StopSignal {
  return (STOP_SIGNALS as readonly unknown[]).includes(reason);
}
