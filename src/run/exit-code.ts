/**
 * The one place a run's exit code is decided (the CLI only sets it). 0 conformant at --fail-on
 * (always 0 without a matrix), 1 findings at or above it, 128+signal when a stop signal ended it
 * (130 SIGINT, 143 SIGTERM, 129 SIGHUP; 130 for any other abort), 3 when a host could not be
 * judged (down or unreachable: 3 wins over 1, a job that saw 1 would take the answer as
 * complete); 2 comes from PortmatrixError (src/errors.ts), 70 from a bug (src/cli/run-cli.ts).
 */
import type { ScanResult } from '../result/model.js';
import { verdictExitCode } from '../conformance/diff.js';
import { exitCodeForSignal, STOP_SIGNALS, type StopSignal } from '../util/stop-signals.js';

export const EXIT_INTERRUPTED = 130;

/** 0, 1, or 128+signal (see above). */
export type RunExitCode = number;

/** `stoppedBy` is the abort signal's reason: a stop signal's name gives its own code. */
export function decideExitCode(result: ScanResult, stoppedBy?: unknown): RunExitCode {
  if (!result.complete) return isStopSignal(stoppedBy) ? exitCodeForSignal(stoppedBy) : EXIT_INTERRUPTED;
  // The policy may lower a not-up host below error (a site down for maintenance): then it counts at --fail-on.
  return verdictExitCode(result);
}

function isStopSignal(reason: unknown): reason is StopSignal {
  return (STOP_SIGNALS as readonly unknown[]).includes(reason);
}
