/**
 * Runs one scanner as a child process and measures it from the outside: wall time from spawn
 * to exit, and peak resident memory from the kernel's high-water mark (VmHWM in
 * /proc/<pid>/status, polled; the mark only grows, so a poll never under-reports what it saw).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ChildRun {
  command: string[];
  exitCode: number | null;
  signal: string | null;
  wallMs: number;
  peakRssKb: number | null;
  timedOut: boolean;
  /** Killed because it did not exit within the grace period after writing its output. */
  hungAfterOutput: boolean;
  stderrTail: string;
}

const RSS_POLL_MS = 20;
const running = new Set<ChildProcess>();
let signalHooksInstalled = false;

/** An interrupted benchmark must not leave a scanner running: stop the children, then exit. */
function installSignalHooks(): void {
  if (signalHooksInstalled) return;
  signalHooksInstalled = true;
  const stopAll = (): void => {
    for (const child of running) child.kill('SIGKILL');
  };
  process.once('exit', stopAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopAll();
      // exit() runs the exit hooks, which remove the benchmark's test hosts.
      process.exit(130);
    });
  }
}

async function readHighWaterKb(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export interface RunMeasuredOptions {
  timeoutMs: number;
  /** When this file appears (the tool's final output), the process gets exitGraceMs more to exit. */
  outputFile?: string;
  exitGraceMs?: number;
}

export function runMeasured(command: string[], options: RunMeasuredOptions): Promise<ChildRun> {
  const [file, ...args] = command;
  if (!file) throw new Error('runMeasured: empty command');
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    installSignalHooks();
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let peakRssKb: number | null = null;
    let stderr = '';
    let timedOut = false;
    let hungAfterOutput = false;
    let graceTimer: NodeJS.Timeout | undefined;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      if (options.outputFile && graceTimer === undefined && existsSync(options.outputFile)) {
        graceTimer = setTimeout(() => {
          hungAfterOutput = true;
          child.kill('SIGKILL');
        }, options.exitGraceMs ?? 10_000);
      }
      void readHighWaterKb(child.pid).then((kb) => {
        if (kb !== null) peakRssKb = Math.max(peakRssKb ?? 0, kb);
      });
    }, RSS_POLL_MS);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('exit', (exitCode, signal) => {
      running.delete(child);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      clearInterval(poll);
      clearTimeout(timer);
      clearTimeout(graceTimer);
      resolve({ command, exitCode, signal, wallMs, peakRssKb, timedOut, hungAfterOutput, stderrTail: stderr.trim().split('\n').slice(-3).join(' | ') });
    });
    child.once('error', (error) => {
      clearInterval(poll);
      clearTimeout(timer);
      clearTimeout(graceTimer);
      resolve({ command, exitCode: null, signal: null, wallMs: 0, peakRssKb, timedOut, hungAfterOutput, stderrTail: error.message });
    });
  });
}
