/**
 * IPv6 end to end: the built CLI scans an emulated IP Office 9.1 on the test host's IPv6
 * address (a ULA inside the namespace), all TCP ports and the documented UDP ports, half-open
 * (the default as root) and with --connect. Every port's state must be the target's truth, and
 * the findings exactly the injected drift, as over IPv4 (test/netns/conformance.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseDriftSpec } from '../../src/emulator/drift.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/emulator.js';
import { truthOf } from '../../src/emulator/target-plan.js';
import { documentedUdpPorts } from '../../src/matrix/documented-ports.js';
import { findFoldedState } from '../../src/model/host-ports.js';
import { parseResultText } from '../../src/report/parse-result.js';
import type { ScanResult } from '../../src/result/model.js';
import { describeNetns } from '../helpers/netns.js';
import { itNeeding } from '../helpers/requirements.js';

const REPO = path.join(import.meta.dirname, '..', '..');
const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-ipv6-'));
const DRIFT = 'missing:tcp/22,extra:tcp/31337,missing:udp/69,extra:udp/31338';
const EXPECTED_DEVIATIONS = ['extra-listener tcp/31337 error', 'extra-listener udp/31338 error', 'missing-listener tcp/22 error', 'missing-listener udp/69 error'];

let emulator: RunningEmulator;

afterAll(() => rmSync(work, { recursive: true, force: true }));

function scan(name: string, extra: string[]): { status: number | null; stdout: string; stderr: string; result: ScanResult } {
  const udp = [...documentedUdpPorts(emulator.expectations), 31338].join(',');
  const run = spawnSync(
    process.execPath,
    [
      path.join(REPO, 'bin', 'portmatrix.js'), 'scan', `[${emulator.address}]`, '--matrix', 'ip-office-9.1', '--ports', 'all', '--udp', udp,
      '--checks', 'none', '--profile', 'fast', '--no-progress', '--format', 'json,table', '--output', path.join(work, name), ...extra,
    ],
    { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' } },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, result: parseResultText(readFileSync(path.join(work, `${name}.json`), 'utf8'), `${name}.json`) };
}

/** Every TCP port and every planned UDP port whose observed state is not the target's. */
function stateErrors(result: ScanResult, udpPorts: readonly number[]): string[] {
  const host = result.hosts[0]!;
  const errors: string[] = [];
  for (const transport of ['tcp', 'udp'] as const) {
    const listed = new Map(host.observations.filter((o) => o.transport === transport).map((o) => [o.port, o]));
    const folded = findFoldedState(host.folded, transport);
    const ports = transport === 'tcp' ? Array.from({ length: 65535 }, (_, index) => index + 1) : udpPorts;
    for (const port of ports) {
      const seen = listed.get(port) ?? folded;
      const truth = truthOf(emulator.truth, transport, port);
      if (seen?.state !== truth) errors.push(`${transport}/${port}: ${seen?.state} (${seen?.reason}), target ${truth}`);
    }
  }
  return errors;
}

describeNetns('IPv6 end to end: an emulated IP Office on a ULA address', () => {
  beforeAll(async () => {
    emulator = await startEmulator({ matrix: 'ip-office-9.1', mode: 'namespace', family: 6, drift: parseDriftSpec(DRIFT), label: 'ipv6-e2e' });
  }, 60_000);

  afterAll(async () => {
    await emulator?.stop();
  });

  for (const [mode, flags] of [['syn', ['--syn']], ['connect', ['--connect']]] as const) {
    itNeeding(`--${mode}: every TCP port and every planned UDP port as the target has it, the drift and nothing else`, mode === 'syn' ? { synProber: true } : {}, () => {
      expect(emulator.address).toMatch(/^fd70:6d74:6573:/);
      const { status, stdout, stderr, result } = scan(`e2e-${mode}`, [...flags]);
      expect(stderr).not.toMatch(/internal error/);
      const host = result.hosts[0]!;
      expect([host.address, host.family, host.status.state]).toEqual([emulator.address, 6, 'up']);
      expect(stateErrors(result, [...documentedUdpPorts(emulator.expectations), 31338])).toEqual([]);
      const deviations = result.conformance!.findings.filter((f) => f.kind !== 'conformant').map((f) => `${f.kind} ${f.transport}/${f.port} ${f.severity}`);
      expect(deviations.sort()).toEqual(EXPECTED_DEVIATIONS);
      expect(result.conformance!.findings.every((finding) => finding.host === emulator.address)).toBe(true);
      expect(status).toBe(1);
      expect(stdout).toContain(`Host ${emulator.address}:`);
    }, 150_000);
  }
});
