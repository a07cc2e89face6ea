/**
 * Runs one scanner as a child process and measures it from the outside: wall time from spawn
 * to exit, and peak resident memory from the kernel's high-water mark (VmHWM in
 * /proc/<pid>/status, polled; the mark only grows, so a poll never under-reports what it saw).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface ChildRun {
  command: string[];
  exitCode: number | null;
  signal: string | null;
  wallMs: number;
  peakRssKb: number | null;
  timedOut: boolean;
  stderrTail: string;
}

const RSS_POLL_MS = 20;

async function readHighWaterKb(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export function runMeasured(command: string[], options: { timeoutMs: number }): Promise<ChildRun> {
  const [file, ...args] = command;
  if (!file) throw new Error('runMeasured: empty command');
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let peakRssKb: number | null = null;
    let stderr = '';
    let timedOut = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      void readHighWaterKb(child.pid).then((kb) => {
        if (kb !== null) peakRssKb = Math.max(peakRssKb ?? 0, kb);
      });
    }, RSS_POLL_MS);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('exit', (exitCode, signal) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ command, exitCode, signal, wallMs, peakRssKb, timedOut, stderrTail: stderr.trim().split('\n').slice(-3).join(' | ') });
    });
    child.once('error', (error) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ command, exitCode: null, signal: null, wallMs: 0, peakRssKb, timedOut, stderrTail: error.message });
    });
  });
}
