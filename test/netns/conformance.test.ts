/**
 * Acceptance: the built CLI (`node bin/portmatrix.js scan`, after `npm run build`) against an
 * emulated IP Office 9.1 target in a network namespace. With injected deviations, each one is
 * reported with the right kind, severity and matrix row, nothing else deviates, and the exit
 * code is 1; the conformant target exits 0. Reports written by the scan validate (JSON Schema,
 * JUnit XSD) and `portmatrix report` re-renders them byte for byte.
 *
 * The emulator has no drift for "a documented-filtered port is reachable", so the test makes one
 * itself: it drops that port's firewall rule and starts a listener on it inside the namespace.
 * The target is scanned over TCP only here: the kinds that need UDP (udp-unconfirmed,
 * dynamic-port-open: IP Office's dynamic ranges are UDP) are covered by the unit tests.
 */
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/emulator.js';
import type { RunningEmulator } from '../../src/emulator/emulator.js';
import type { ScanResult } from '../../src/result/model.js';
import { describeNetns } from '../helpers/netns.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-conformance-'));
const SELECTION = { matrix: 'ip-office-9.1', components: ['ip-office', 'voicemail-pro'], platform: 'linux' } as const;
const running: RunningEmulator[] = [];

afterAll(async () => {
  await Promise.all(running.map((emulator) => emulator.stop()));
  rmSync(work, { recursive: true, force: true });
});

function portmatrix(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin/portmatrix.js'), ...args], {
    cwd: work,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Opens a documented-filtered TCP port: its drop rule goes, a listener comes. */
async function openFilteredPort(emulator: RunningEmulator, port: number, keepDropped: number[]): Promise<ChildProcess> {
  const host = emulator.host!;
  await host.nft(`flush chain inet portmatrix_emulator input\nadd rule inet portmatrix_emulator input tcp dport { ${keepDropped.join(', ')} } drop\n`);
  const child = host.spawn([process.execPath, '-e', `require('node:net').createServer((s) => s.end()).listen(${port}, '${emulator.address}', () => console.log('ready'))`]);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('listener did not start in 5 s')), 5_000);
    child.stdout?.on('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`listener exited with ${String(code)}`)));
  });
  return child;
}

async function scanEmulated(
  name: string,
  drift: Parameters<typeof startEmulator>[0]['drift'],
  tamper?: (emulator: RunningEmulator) => Promise<ChildProcess>,
): Promise<{ status: number | null; result: ScanResult; stdout: string; stderr: string }> {
  const emulator = await startEmulator({ matrix: SELECTION.matrix, components: [...SELECTION.components], platform: SELECTION.platform, ...(drift ? { drift } : {}), label: name });
  running.push(emulator);
  let extra: ChildProcess | undefined;
  try {
    extra = await tamper?.(emulator);
    const outcome = portmatrix(
      'scan', emulator.address,
      '--ports', 'all', '--udp', 'none', '--profile', 'fast', '--no-progress',
      '--matrix', SELECTION.matrix, '--component', SELECTION.components.join(','), '--platform', SELECTION.platform,
      '--format', 'json,junit,html,markdown', '--output', name,
    );
    const result = JSON.parse(readFileSync(path.join(work, `${name}.json`), 'utf8')) as ScanResult;
    return { ...outcome, result };
  } finally {
    extra?.kill('SIGKILL');
    await emulator.stop();
    running.splice(running.indexOf(emulator), 1);
  }
}

function deviations(result: ScanResult): string[] {
  return result
    .conformance!.findings.filter((finding) => finding.kind !== 'conformant')
    .map((finding) => `${finding.kind} tcp/${finding.port} ${finding.severity} ${finding.ref?.rowId ?? '-'}`)
    .sort();
}

describeNetns('conformance against an emulated IP Office 9.1 target', () => {
  it('a conformant target exits 0 with no deviations', async () => {
    const { status, result, stderr } = await scanEmulated('conformant', undefined);
    expect(stderr).not.toContain('internal error');
    expect(deviations(result)).toEqual([]);
    expect(status).toBe(0);
    // Documented-filtered ports are dropped by the emulator's firewall and still conformant.
    const filtered = result.conformance!.findings.filter((finding) => finding.observed === 'filtered');
    expect(filtered.map((finding) => finding.port).sort((a, b) => a - b)).toEqual([1720, 4097]);
    expect(filtered.every((finding) => finding.kind === 'conformant')).toBe(true);
  });

  it('reports every injected deviation with its kind, severity and row, nothing else, and exits 1', async () => {
    const { status, result, stdout } = await scanEmulated('drifted', {
      missingListeners: [{ transport: 'tcp', port: 22 }, { transport: 'tcp', port: 5807 }],
      toggledOptional: [{ transport: 'tcp', port: 411 }, { transport: 'tcp', port: 52233 }],
      exposedInternal: [{ transport: 'tcp', port: 4444 }],
      // 5810 is inside 5807's configurable range 5800-5899 while 5807 is dark: "moved?".
      extraListeners: [{ transport: 'tcp', port: 31337 }, { transport: 'tcp', port: 5810 }],
    }, (emulator) => openFilteredPort(emulator, 4097, [1720]));
    expect(deviations(result)).toEqual(
      [
        'missing-listener tcp/22 error ip-office-in-1',
        'optional-listener-disabled tcp/411 notice ip-office-in-8',
        'optional-listener-enabled tcp/52233 warning ip-office-in-45',
        'internal-port-exposed tcp/4444 warning ip-office-intra-3',
        'extra-listener tcp/31337 error -',
        'listener-moved tcp/5807 warning ip-office-in-20',
        'filtered-port-reachable tcp/4097 warning ip-office-in-15',
      ].sort(),
    );
    expect(result.conformance!.findings.find((finding) => finding.kind === 'listener-moved')?.movedTo?.port).toBe(5810);
    expect(status).toBe(1);
    expect(stdout).toContain('Result: NOT conformant at --fail-on error · 2 error, 4 warning, 1 notice');

    // The reports the scan wrote: JSON validates against its schema, JUnit against the XSD,
    // and `portmatrix report` re-renders each byte for byte.
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(path.join(repoRoot, 'schemas/result.schema.json'), 'utf8')));
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
    const xsd = spawnSync('xmllint', ['--noout', '--schema', path.join(repoRoot, 'fixtures/junit/junit-ant.xsd'), path.join(work, 'drifted.junit.xml')], { encoding: 'utf8' });
    expect(xsd.status, xsd.stderr).toBe(0);
    expect(readFileSync(path.join(work, 'drifted.junit.xml'), 'utf8')).toContain('failures="2"');
    const again = portmatrix('report', 'drifted.json', '--format', 'json,junit,html,markdown', '--output', 'again');
    expect(again.status).toBe(0);
    for (const ending of ['.json', '.junit.xml', '.html', '.md']) {
      expect(readFileSync(path.join(work, `again${ending}`)).equals(readFileSync(path.join(work, `drifted${ending}`))), ending).toBe(true);
    }
  });
});
