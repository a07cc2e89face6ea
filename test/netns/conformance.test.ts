/**
 * Acceptance: the built CLI (`node bin/portmatrix.js scan`, after `npm run build`) against an
 * emulated IP Office 9.1 target in a network namespace, over TCP (all ports) and UDP. With
 * injected deviations of every kind, each one is reported with the right kind, severity and
 * matrix row, nothing else deviates, and the exit code is 1; the conformant target exits 0.
 * Reports written by the scan validate (JSON Schema, JUnit XSD) and `portmatrix report`
 * re-renders them byte for byte.
 *
 * Every deviation is the emulator's drift (src/emulator/drift.ts), so the target and its truth
 * come from one plan: a silent UDP listener (bound, never answers: open|filtered) for "UDP
 * unconfirmed", a documented-filtered port with a listener and no drop for "filtered port
 * reachable", extra UDP listeners inside IP Office's dynamic media ranges (40750-50750 and
 * 56000-58000, both UDP) for "dynamic port open". The namespace keeps the kernel's default ICMP
 * rate limit (about six port unreachables at once, then one a second), so closed UDP ports cost
 * time: the drifted scan probes the documented UDP ports plus the drift's own, not the common list.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, expect, it } from 'vitest';
import type { Finding } from '../../src/conformance/model.js';
import { parseDriftSpec } from '../../src/emulator/drift.js';
import { startEmulator } from '../../src/emulator/emulator.js';
import type { RunningEmulator } from '../../src/emulator/emulator.js';
import { truthOf } from '../../src/emulator/target-plan.js';
import type { PortTruth } from '../../src/emulator/target-plan.js';
import type { Expectation } from '../../src/matrix/expectation.js';
import type { ScanResult } from '../../src/result/model.js';
import { findFoldedState } from '../../src/model/host-ports.js';
import { describeNetns } from '../helpers/netns.js';
import { type CliRun, runPortmatrixSync } from '../helpers/cli.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-conformance-'));
const SELECTION = { matrix: 'ip-office-9.1', components: ['ip-office', 'voicemail-pro'], platform: 'linux' } as const;
/** A scan that has not finished by then is killed and the test fails (a --profile fast scan here takes ~15 s). */
const SCAN_TIMEOUT_MS = 60_000;
const running: RunningEmulator[] = [];

afterAll(async () => {
  await Promise.all(running.map((emulator) => emulator.stop()));
  rmSync(work, { recursive: true, force: true });
});

function portmatrix(...args: string[]): CliRun {
  return runPortmatrixSync(args, { cwd: work, timeoutMs: SCAN_TIMEOUT_MS });
}

interface EmulatedScan {
  status: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  result: ScanResult;
  truth: PortTruth;
  expectations: Expectation[];
}

/** Starts the emulated target with `drift`, scans it with the CLI (all TCP ports, `udp` as --udp), removes it. */
async function scanEmulated(name: string, drift: string, udp: (emulator: RunningEmulator) => string): Promise<EmulatedScan> {
  const emulator = await startEmulator({
    matrix: SELECTION.matrix,
    components: [...SELECTION.components],
    platform: SELECTION.platform,
    ...(drift ? { drift: parseDriftSpec(drift) } : {}),
    label: name,
  });
  running.push(emulator);
  try {
    // The UDP verdicts below are made under the kernel's default ICMP rate limit, not a relaxed one.
    const icmpLimit = await emulator.host!.exec(['sysctl', '-n', 'net.ipv4.icmp_ratelimit', 'net.ipv4.icmp_msgs_per_sec']);
    expect(icmpLimit.stdout.trim().split(/\s+/)).toEqual(['1000', '1000']);
    const outcome = portmatrix(
      'scan', emulator.address,
      '--ports', 'all', '--udp', udp(emulator), '--profile', 'fast', '--no-progress',
      '--matrix', SELECTION.matrix, '--component', SELECTION.components.join(','), '--platform', SELECTION.platform,
      '--format', 'json,junit,html,markdown', '--output', name,
    );
    expect(outcome.stderr).not.toContain('internal error');
    const result = JSON.parse(readFileSync(path.join(work, `${name}.json`), 'utf8')) as ScanResult;
    return { ...outcome, result, truth: emulator.truth, expectations: emulator.expectations };
  } finally {
    await emulator.stop();
    running.splice(running.indexOf(emulator), 1);
  }
}

/** The documented UDP listener ports of the selection (dynamic media ranges excluded). */
function documentedUdpPorts(expectations: readonly Expectation[]): number[] {
  const ports = expectations.filter((row) => row.transport === 'udp' && !row.dynamic).flatMap((row) => Array.from({ length: row.end - row.start + 1 }, (_, i) => row.start + i));
  return [...new Set(ports)].sort((a, b) => a - b);
}

const TABLE_1 = 'Table 1. Ports for IP Office Solution';

/** kind, port, severity and row (id and the document's own row label) of every deviation. */
function deviations(result: ScanResult): string[] {
  return result
    .conformance!.findings.filter((finding) => finding.kind !== 'conformant')
    .map((finding) => `${finding.kind} ${finding.transport}/${finding.port} ${finding.severity} ${finding.ref ? `${finding.ref.rowId} (${finding.ref.row})` : '-'}`)
    .sort();
}

/**
 * UDP ports whose observed state differs from what the target does (a port not listed one by
 * one has the folded state). Documented ports are confirmed to the end, whatever the ICMP budget.
 */
function udpStateErrors(scan: EmulatedScan, ports: readonly number[]): string[] {
  const host = scan.result.hosts[0]!;
  const observed = new Map(host.observations.filter((o) => o.transport === 'udp').map((o) => [o.port, o]));
  const folded = findFoldedState(host.folded, 'udp');
  return ports.flatMap((port) => {
    const seen = observed.get(port) ?? folded;
    const expected = truthOf(scan.truth, 'udp', port);
    return seen?.state === expected ? [] : [`udp/${port}: observed ${seen ? `${seen.state} (${seen.reason})` : 'nothing'}, target ${expected}`];
  });
}

describeNetns('conformance against an emulated IP Office 9.1 target', () => {
  it('a conformant target, scanned over TCP and UDP (--udp matrix), exits 0 with no deviations', async () => {
    const scan = await scanEmulated('conformant', '', () => 'matrix');
    expect(deviations(scan.result)).toEqual([]);
    expect(scan.status).toBe(0);
    // Documented-filtered ports are dropped by the emulator's firewall and still conformant.
    const dark = scan.result.conformance!.findings.filter((finding) => finding.observed === 'filtered' || finding.observed === 'open|filtered');
    expect(dark.map((finding) => `${finding.transport}/${finding.port} ${finding.observed} ${finding.kind}`).sort()).toEqual(
      ['tcp/1720 filtered conformant', 'tcp/4097 filtered conformant', 'udp/1718 open|filtered conformant', 'udp/1719 open|filtered conformant'],
    );
    // Every documented UDP port was probed and classified as the target behaves (1701 closed, 69/123/161 answering ...).
    const documented = documentedUdpPorts(scan.expectations);
    expect(documented).toEqual(expect.arrayContaining([69, 123, 161, 1701, 5060, 50795]));
    expect(udpStateErrors(scan, documented)).toEqual([]);
    console.info(`conformant scan (TCP all + UDP matrix): ${Math.round(scan.durationMs)} ms`);
  });

  it('reports every injected deviation (TCP and UDP) with its kind, severity and row, nothing else, and exits 1', async () => {
    const drift = [
      'missing:tcp/22', 'missing:udp/69', // documented open, not optional: missing listener
      'toggle:tcp/411', 'toggle:udp/520', // optional open -> closed: optional listener disabled
      'toggle:tcp/52233', 'toggle:udp/1701', // optional closed -> open: optional listener enabled
      'expose:tcp/4444', // intra-device port open from outside
      'extra:tcp/31337', 'extra:udp/31338', // undocumented listeners
      // Inside the UDP media ranges: dynamic port open. Those ranges are UDP, so a TCP listener
      // on the same port number is an ordinary extra listener.
      'extra:udp/45000', 'extra:udp/57000', 'extra:tcp/45000',
      'reach:tcp/4097', 'reach:udp/1719', // documented filtered, but a listener answers
      'silent:udp/161', // documented open UDP, no reply: udp unconfirmed (open|filtered)
      // 5810 is inside 5807's configurable range 5800-5899 while 5807 is dark: "moved?".
      'missing:tcp/5807', 'extra:tcp/5810',
    ].join(',');
    const driftUdp = [31338, 45000, 57000];
    const scan = await scanEmulated('drifted', drift, (emulator) => [...documentedUdpPorts(emulator.expectations), ...driftUdp].join(','));
    const { result, status, stdout } = scan;
    expect(deviations(result)).toEqual(
      [
        'missing-listener tcp/22 error ip-office-in-1 (Ingress 1)',
        'missing-listener udp/69 error ip-office-in-4 (Ingress 4)',
        'optional-listener-disabled tcp/411 notice ip-office-in-8 (Ingress 8)',
        'optional-listener-disabled udp/520 notice ip-office-in-10 (Ingress 10)',
        'optional-listener-enabled tcp/52233 warning ip-office-in-45 (Ingress 45)',
        'optional-listener-enabled udp/1701 warning ip-office-in-11 (Ingress 11)',
        'internal-port-exposed tcp/4444 warning ip-office-intra-3 (Intra-device 3)',
        'extra-listener tcp/31337 error -',
        'extra-listener udp/31338 error -',
        'extra-listener tcp/45000 error -',
        'dynamic-port-open udp/45000 notice ip-office-in-27 (Ingress 27)',
        'dynamic-port-open udp/57000 notice ip-office-in-46 (Ingress 46)',
        'filtered-port-reachable tcp/4097 warning ip-office-in-15 (Ingress 15)',
        'filtered-port-reachable udp/1719 warning ip-office-in-13 (Ingress 13)',
        'udp-unconfirmed udp/161 notice ip-office-in-7 (Ingress 7)',
        'listener-moved tcp/5807 warning ip-office-in-20 (Ingress 20)',
      ].sort(),
    );
    const findings = result.conformance!.findings.filter((finding) => finding.kind !== 'conformant');
    // Every row reference names the document's table, and the observed evidence is the expected one.
    expect(findings.filter((finding) => finding.ref).every((finding) => finding.ref!.table === TABLE_1 && finding.ref!.document === 'Avaya Port Matrix: IP Office 9.1.0.0')).toBe(true);
    const evidence = (kind: Finding['kind'], transport: string, port: number) => {
      const found = findings.find((finding) => finding.kind === kind && finding.transport === transport && finding.port === port);
      return `${found?.observed} ${found?.reason}`;
    };
    expect(evidence('missing-listener', 'udp', 69)).toBe('closed icmp-port-unreach');
    expect(evidence('udp-unconfirmed', 'udp', 161)).toBe('open|filtered no-response');
    expect(evidence('dynamic-port-open', 'udp', 45000)).toBe('open udp-response');
    expect(evidence('filtered-port-reachable', 'udp', 1719)).toBe('open udp-response');
    expect(findings.find((finding) => finding.kind === 'listener-moved')?.movedTo?.port).toBe(5810);
    expect(udpStateErrors(scan, [...documentedUdpPorts(scan.expectations), ...driftUdp])).toEqual([]);
    expect(status).toBe(1);
    expect(stdout).toContain('Result: NOT conformant at --fail-on error · 5 error, 6 warning, 5 notice');
    console.info(`drifted scan (TCP all + UDP ${documentedUdpPorts(scan.expectations).length + driftUdp.length} ports): ${Math.round(scan.durationMs)} ms`);

    // The reports the scan wrote: JSON validates against its schema, JUnit against the XSD,
    // and `portmatrix report` re-renders each byte for byte.
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(path.join(repoRoot, 'schemas/result.schema.json'), 'utf8')));
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
    const xsd = spawnSync('xmllint', ['--noout', '--schema', path.join(repoRoot, 'fixtures/junit/junit-ant.xsd'), path.join(work, 'drifted.junit.xml')], { encoding: 'utf8' });
    expect(xsd.status, xsd.stderr).toBe(0);
    expect(readFileSync(path.join(work, 'drifted.junit.xml'), 'utf8')).toContain('failures="5"');
    const again = portmatrix('report', 'drifted.json', '--format', 'json,junit,html,markdown', '--output', 'again');
    expect(again.status).toBe(0);
    for (const ending of ['.json', '.junit.xml', '.html', '.md']) {
      expect(readFileSync(path.join(work, `again${ending}`)).equals(readFileSync(path.join(work, `drifted${ending}`))), ending).toBe(true);
    }
  });
});
