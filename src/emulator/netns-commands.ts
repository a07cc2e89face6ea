/**
 * The commands the test-host kit runs (ip, nft), asynchronous and synchronous (the latter for
 * process exit), and the removal of one namespace with its host-side link.
 */
import { execFile, execFileSync } from 'node:child_process';
import { unlinkSync } from 'node:fs';

const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  /** Text written to the command's stdin. */
  input?: string;
  timeoutMs?: number;
  /** Resolve with the exit code instead of throwing when the command fails. */
  allowFailure?: boolean;
}

export function run(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        if (error && !options.allowFailure) {
          const detail = stderr.trim() || error.message;
          reject(new Error(`${file} ${args.join(' ')} failed (exit ${String(error.code ?? error.signal)}): ${detail}`));
          return;
        }
        resolve({ stdout, stderr, exitCode });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** The command's stdout, or null when it failed. */
export function runSync(file: string, args: readonly string[]): string | null {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function safeUnlink(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** pm<pid>n<k> -> pm<pid>h<k> (caller's side of the veth pair) or pm<pid>t<k> (inside). */
export function linkNameFor(namespaceName: string, side: 'h' | 't'): string {
  return namespaceName.replace(/n(\d+)$/, `${side}$1`);
}

/** Kills every process inside a namespace, then removes its links and the namespace (synchronous: usable on exit). */
export function removeHostSync(name: string, hostLink: string): void {
  const pids = (runSync('ip', ['netns', 'pids', name]) ?? '').split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  runSync('ip', ['link', 'del', hostLink]);
  runSync('ip', ['netns', 'del', name]);
}
