/** The built CLI (bin/portmatrix.js) as a child process, for tests that check what a user sees. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/portmatrix.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Runs `portmatrix ...args` in `cwd` without colour; a run past `timeoutMs` is killed and thrown as an error naming the command. */
export function runPortmatrixSync(args: string[], options: { cwd: string; timeoutMs: number }): CliRun {
  const started = performance.now();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (result.error) throw new Error(`portmatrix ${args.join(' ')}: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, durationMs: performance.now() - started };
}
