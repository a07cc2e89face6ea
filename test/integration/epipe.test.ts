/** A reader that goes away (`| head -1`) ends the command quietly, with the exit code of its verdict. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.join(import.meta.dirname, '..', '..');
const CLI = path.join(REPO, 'bin', 'portmatrix.js');

/** `portmatrix ARGS | head -c 1` through a real pipe (a spawned child's stdio is a socket pair, where writes never fail this way). */
function runWithClosedReader(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', '"$@" | head -c 1 >/dev/null', 'bash', process.execPath, CLI, ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('EPIPE on standard output', () => {
  it.each([
    [['matrix', 'show', 'aacc-7.1.2', '--json'], 0],
  ])('portmatrix %j | head: no stack trace, exit %i', async (args, exitCode) => {
    const { code, stderr } = await runWithClosedReader(args);
    expect(stderr).toBe('');
    expect(code).toBe(exitCode);
  });
});
