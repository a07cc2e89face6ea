/** `--targets-file -` reads the targets from standard input (nmap's -iL -); duplicates are one host. Scans 20 ports of 127.0.0.1. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultText } from '../../src/report/parse-result.js';

const REPO = path.join(import.meta.dirname, '..', '..');

describe('--targets-file -', () => {
  it('takes the targets from standard input, comments and duplicates dropped', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [path.join(REPO, 'bin', 'portmatrix.js'), 'scan', '--targets-file', '-', '--ports', '1-20', '--udp', 'none', '--connect', '--format', 'json'],
        { cwd: REPO, timeout: 60_000 },
        (error, out) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout: out }),
      );
      child.stdin?.end('127.0.0.1\n# the same host again\n127.0.0.1 # trailing comment\n');
    });
    expect(code).toBe(0);
    const result = parseResultText(stdout, 'stdout');
    expect(result.hosts.map((host) => host.address)).toEqual(['127.0.0.1']);
    expect(result.complete).toBe(true);
  });
});
