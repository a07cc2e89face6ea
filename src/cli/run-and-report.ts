/**
 * What scan and demo share at the edge: run the pipeline under the stop signals, with the progress bar,
 * then write the reports (the summary table goes to the terminal when every report went to a
 * file) and say what was written. The run itself decides the exit code.
 */
import { writeReports, type OutputTarget, type TerminalOptions } from '../output/reports.js';
import type { ScanResult } from '../result/model.js';
import { executeRun, prepareRun, type PreparedRun, type RunOptions, type RunOutcome } from '../run.js';
import { watchStopSignals } from '../util/stop-signals.js';
import { toTerminalText } from '../util/untrusted-text.js';
import { createProgressBar } from './progress-bar.js';

export interface RunAndReportOptions {
  outputs: readonly OutputTarget[];
  progress: boolean;
  /** --output as given, to say where an interrupted run's result is. */
  outputName?: string;
  terminal?: TerminalOptions;
  /** Adds to the finished result before any report is written (scan: the "since the previous run" section). */
  annotate?: (result: ScanResult, prepared: PreparedRun) => ScanResult;
  /** After the reports are written, still under the stop signals (scan: keep the run in its history, notify). */
  afterReports?: (outcome: RunOutcome, written: readonly string[]) => Promise<void>;
}

export async function runAndReport(options: RunOptions, edge: RunAndReportOptions): Promise<RunOutcome> {
  const terminal = edge.terminal ?? { stdout: process.stdout, env: process.env };
  const prepared = await prepareRun(options);
  for (const note of prepared.notes) process.stderr.write(`portmatrix: note: ${note}\n`);

  const stop = watchStopSignals();
  const progressBar = edge.progress && process.stderr.isTTY ? createProgressBar(process.stderr) : null;
  let outcome: RunOutcome;
  try {
    const executed = await executeRun(prepared, { signal: stop.abortSignal, ...(progressBar ? { onProgress: (progress) => progressBar.update(progress) } : {}) });
    outcome = edge.annotate ? { ...executed, result: edge.annotate(executed.result, prepared) } : executed;
    progressBar?.clear();
    // Still listening while the reports are written: a second signal then is only acknowledged.
    const written = await writeReports(edge.outputs, outcome.result, terminal, { summaryOnTerminal: true });
    for (const file of written) process.stderr.write(`wrote ${toTerminalText(file)}\n`);
    if (!outcome.result.complete) {
      const holder = edge.outputName === undefined ? 'the output above is' : `${toTerminalText(edge.outputName)} holds`;
      process.stderr.write(`portmatrix: interrupted by ${stop.received ?? 'a stop signal'}: ${holder} what was scanned, marked incomplete\n`);
    }
    await edge.afterReports?.(outcome, written);
  } finally {
    progressBar?.clear();
    stop.dispose();
  }
  return outcome;
}
