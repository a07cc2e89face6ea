/**
 * The signals that stop a scan: Ctrl-C (SIGINT), systemd stop, CI cancel and `timeout`
 * (SIGTERM), a closed terminal or session (SIGHUP). The first one aborts the probing so that
 * what was scanned is written, marked incomplete with the signal named, and the process exits
 * 128 + the signal's number, as a shell reports a process killed by it. A second one while the
 * reports are written is only acknowledged: each file is replaced atomically, so stopping then
 * would gain nothing and could lose the result. A third leaves at once (the old files stay; no
 * temporary file survives, see atomic-write.ts).
 */
import { constants } from 'node:os';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
export function exitCodeForSignal(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

export interface StopSignalWatch {
  /** Aborted at the first stop signal. */
  readonly abortSignal: AbortSignal;
  /** The first stop signal received, if any. */
  readonly received: StopSignal | undefined;
  /** Stops listening: the process's default handling comes back. */
  dispose(): void;
}

export function watchStopSignals(stderr: { write(text: string): unknown } = process.stderr): StopSignalWatch {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  let count = 0;
  const onSignal = (signal: StopSignal): void => {
    count++;
    if (count === 1) {
      received = signal;
      stderr.write(`\nportmatrix: ${signal}: stopping; writing what was scanned, marked incomplete (send it twice more to leave at once)\n`);
      controller.abort(signal);
    } else if (count === 2) {
      stderr.write(`portmatrix: ${signal}: still writing the reports; one more signal leaves without them (files already written stay whole)\n`);
    } else process.exit(exitCodeForSignal(received ?? signal));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    abortSignal: controller.signal,
    get received() {
      return received;
    },
    dispose() {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}
