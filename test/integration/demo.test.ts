import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, NAMESPACE_TOOLS } from '../../src/emulator/netns.js';
import type { ScanResult } from '../../src/result/model.js';
import { itNeeding } from '../helpers/requirements.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin', 'portmatrix.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  pid: number;
}

function runDemo(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, 'demo', ...args], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr, pid: child.pid ?? -1 });
    });
  });
}

const INJECTED = [
  ['extra-listener', 'tcp', 31337],
  ['missing-listener', 'tcp', 8000],
  ['internal-port-exposed', 'tcp', 4444],
  ['service-mismatch', 'tcp', 8443],
] as const;

async function checkRun(run: Run, outputDir: string): Promise<ScanResult> {
  expect(run.stderr).toMatch(/Injected deviations found by the scan: 4\/4/);
  expect(run.code).toBe(0);
  // The terminal shows the result the way `portmatrix scan` does.
  expect(run.stdout).toMatch(/NOT conformant/);
  expect(run.stdout).toMatch(/tcp\/31337/);
  const result = JSON.parse(await readFile(path.join(outputDir, 'ip-office-9.1-demo.json'), 'utf8')) as ScanResult;
  const findings = result.conformance?.findings ?? [];
  for (const [kind, transport, port] of INJECTED) {
    expect(findings.some((finding) => finding.kind === kind && finding.transport === transport && finding.port === port)).toBe(true);
  }
  for (const ending of ['.txt', '.md', '.html', '.junit.xml']) {
    expect((await readFile(path.join(outputDir, `ip-office-9.1-demo${ending}`), 'utf8')).length).toBeGreaterThan(100);
  }
  return result;
}

describe('portmatrix demo', () => {
  let outputDir: string;
  beforeAll(async () => {
    outputDir = await mkdtemp(path.join(tmpdir(), 'portmatrix-demo-test-'));
  });
  afterAll(async () => {
    await rm(outputDir, { recursive: true, force: true });
  });

  it('on loopback: finds the four injected deviations and says what it could not emulate', async () => {
    const run = await runDemo(['--loopback', '--output-dir', path.join(outputDir, 'loopback')]);
    const result = await checkRun(run, path.join(outputDir, 'loopback'));
    expect(run.stderr).toMatch(/on a loopback address/);
    expect(run.stderr).toMatch(/Not emulated \(needs a firewall \(root\)\): .*tcp\/1720/);
    expect(result.hosts[0]?.address).toMatch(/^127\./);
  });

  it('without iproute2 and nftables (a PATH holding neither): falls back to loopback, says why in one line, exits 0', async () => {
    const emptyPath = path.join(outputDir, 'empty-path');
    await mkdir(emptyPath);
    const run = await runDemo(['--no-udp', '--output-dir', path.join(outputDir, 'fresh')], { PATH: emptyPath });
    await checkRun(run, path.join(outputDir, 'fresh'));
    expect(run.stderr).toMatch(/on a loopback address/);
    const why = run.stderr.split('\n').filter((line) => /nftables|iproute2|not root/.test(line));
    expect(why).toEqual([
      isRoot()
        ? 'Using a loopback target: ip and nft not found; for the namespace target install iproute2 nftables (apt-get install iproute2 nftables)'
        : expect.stringMatching(/on a loopback address \(not root: no namespace, no firewall\)$/),
    ]);
  });

  // Under CI=true a missing need fails here instead of skipping.
  itNeeding('as root: scans a namespace target and leaves no namespace or process behind', { root: true, tools: NAMESPACE_TOOLS.map((tool) => tool.command) }, async () => {
    const run = await runDemo(['--output-dir', path.join(outputDir, 'netns')]);
    const result = await checkRun(run, path.join(outputDir, 'netns'));
    expect(run.stderr).toMatch(/in network namespace pm\d+n0/);
    expect(result.hosts[0]?.address).toMatch(/^198\.1[89]\./);
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(namespaces).not.toMatch(new RegExp(`pm${run.pid}n`));
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(new RegExp(`pm${run.pid}h`));
  });
});
