/**
 * `portmatrix scan` as a user meets it (built CLI): every mistake is one line on stderr with
 * exit 2 before anything is scanned, and --help documents the profiles with their caps and
 * where the output goes. Only 127.0.0.1 is named as a target, and no case gets to scan it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../../src/defaults.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'bin', 'portmatrix.js');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe('portmatrix scan: bad input is one line and exit 2', () => {
  it.each([
    [['scan', '127.0.0.1', '--fail-on', 'bad'], /^portmatrix: option '--fail-on <level>' argument 'bad' is invalid\. Allowed choices are error, warning, notice, never \(see portmatrix --help\)$/],
    [['scan', '127.0.0.1', '--bogus'], /^portmatrix: unknown option '--bogus' \(see portmatrix --help\)$/],
    [['scna', '127.0.0.1'], /^portmatrix: unknown command 'scna' \(did you mean scan\? see portmatrix --help\)$/],
    [['scan', '127.0.0.1', '--snmp-community'], /^portmatrix: option '--snmp-community <name>' argument missing/],
    [['scan', '127.0.0.1', '--matrix', 'nope'], /^portmatrix: matrix "nope" not found: .*built-in matrices: .*ip-office-9\.1/],
    // Not YAML at all: the message quotes the start of the file, not all of it.
    [['scan', '127.0.0.1', '--matrix', 'package.json'], /^portmatrix: package\.json:1:1: .{0,200}$/],
    [['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--platform', 'vax'], /unknown platform "vax" for matrix ip-office-9\.1 \(platforms of ip-office-9\.1: ip500v2, linux, windows\)/],
    [['scan', '127.0.0.1', '--udp', '0'], /^portmatrix: --udp "0": port 0 is outside 1-65535/],
    [['scan', '127.0.0.1', '--ports', 'none', '--udp', 'none'], /^portmatrix: nothing to scan: --ports none and --udp none/],
    [['scan', '127.0.0.1', '--syn', '--connect'], /^portmatrix: --syn and --connect both given/],
    [['scan', '127.0.0.1', '--format', 'json', '--output', '/nonexistent-folder/x.json'], /^portmatrix: cannot write --output \/nonexistent-folder\/x\.json: folder \/nonexistent-folder does not exist/],
    // /proc passes a permission check for root but takes no new file: caught before the scan, not after it.
    [['scan', '127.0.0.1', '--format', 'json', '--output', '/proc/portmatrix.json'], /^portmatrix: cannot write --output \/proc\/portmatrix\.json: folder \/proc (does not take new files|is not writable)/],
  ])('%j', async (args, message) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr.trim()).toMatch(message);
    expect(code).toBe(2);
  });
});

describe('portmatrix scan --help', () => {
  it('documents every profile with its caps, where the output goes, and the exit codes', async () => {
    const { code, stdout } = await runCli(['scan', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('gentle (default): a production IP500 V2');
    for (const [name, caps] of Object.entries(PROFILES)) {
      const rate = caps.maxRatePerSecond === 0 ? 'no rate cap' : `${caps.maxRatePerSecond} new connections/s`;
      expect(stdout, name).toContain(`${caps.maxConcurrency} in flight, ${rate}, ${caps.maxRetries} retries, probe timeout ${caps.minRttTimeoutMs}-${caps.maxRttTimeoutMs} ms`);
    }
    expect(stdout).toMatch(/The table stays a table when standard output is not a terminal/);
    expect(stdout).toMatch(/Exit codes: 0 conformant .* 1 findings .*\n\s+2 bad usage or input, 3 a host could not be judged \(down: .*\n.*3 wins over 1.*128\+signal when stopped:\n\s+130 SIGINT, 143 SIGTERM, 129 SIGHUP/);
    expect(stdout).toMatch(/--udp <spec> +UDP ports: matrix/);
  });

  it('--version loads no command and prints the version', async () => {
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
