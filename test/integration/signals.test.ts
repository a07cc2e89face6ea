/**
 * Stop signals on a real scan of 127.0.0.1 (the gentle profile: a full TCP sweep takes minutes,
 * so the signal always lands mid-scan): SIGINT, SIGTERM and SIGHUP each stop the probing, every
 * requested report is still written, marked incomplete with the signal named, and the exit code
 * is 128 + the signal's number. Two SIGINTs a few milliseconds apart change nothing of that.
 * The signal is sent once the scanner holds probe sockets (read from /proc), not after a guess.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { parseResultText } from '../../src/report/parse-result.js';

const REPO = path.join(import.meta.dirname, '..', '..');
const CLI = path.join(REPO, 'bin', 'portmatrix.js');
const folders: string[] = [];
afterAll(() => folders.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

/** True once the process has a socket beyond its standard streams: probing has begun. */
function probing(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => Number(fd) > 2 && readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:'));
  } catch {
    return false;
  }
}

async function interruptedScan(signals: NodeJS.Signals[]): Promise<{ code: number | null; stderr: string; folder: string }> {
  const folder = mkdtempSync(path.join(tmpdir(), 'pm-signal-'));
  folders.push(folder);
  const child = spawn(
    process.execPath,
    [CLI, 'scan', '127.0.0.1', '--ports', 'all', '--udp', 'none', '--profile', 'gentle', '--connect', '--format', 'json,markdown,junit', '--output', 'r'],
    { cwd: folder, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  for (let attempt = 0; attempt < 600 && !probing(child.pid!); attempt++) await sleep(50);
  for (const signal of signals) {
    child.kill(signal);
    await sleep(5);
  }
  return { code: await exited, stderr, folder };
}

function expectIncompleteReports(folder: string, signal: string): void {
  expect(readdirSync(folder).sort()).toEqual(['r.json', 'r.junit.xml', 'r.md']);
  const result = parseResultText(readFileSync(path.join(folder, 'r.json'), 'utf8'), 'r.json');
  expect(result.complete).toBe(false);
  expect(result.incompleteReason).toBe(`interrupted by ${signal}`);
  expect(readFileSync(path.join(folder, 'r.md'), 'utf8')).toContain(`**Incomplete scan**: interrupted by ${signal}`);
  expect(readFileSync(path.join(folder, 'r.junit.xml'), 'utf8')).toContain('<property name="complete" value="false"/>');
}

describe('stop signals during a scan', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s: every report written, marked incomplete, exit %i', async (signal, exitCode) => {
    const { code, stderr, folder } = await interruptedScan([signal]);
    expect(stderr).toMatch(new RegExp(`portmatrix: interrupted by ${signal}: r holds what was scanned, marked incomplete\\n$`));
    expect(code).toBe(exitCode);
    expectIncompleteReports(folder, signal);
  });

  it('two SIGINTs a few ms apart: still every report, whole, exit 130', async () => {
    const { code, stderr, folder } = await interruptedScan(['SIGINT', 'SIGINT']);
    expect(code).toBe(130);
    expect(stderr).toContain('still writing the reports');
    expectIncompleteReports(folder, 'SIGINT');
  });
});
