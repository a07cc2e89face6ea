/**
 * Acceptance (issue 17): for the main component of each of the five built-in matrices, an emulated
 * standard install (no high availability, no optional feature or role, no legacy port, nothing of
 * the client PC) is scanned with the built CLI over its documented TCP and UDP ports and gives no
 * error and no warning. Judged again with the HA condition declared, the same install is missing
 * exactly the HA rows' listeners; an emulated HA install with the condition declared is clean, and
 * without it its HA listeners are notices that name the condition.
 *
 * The emulator builds each target from the matrix (src/emulator/target-plan.ts): a row whose
 * condition is not declared has no listener ("open only for localhost": one on loopback only).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/emulator.js';
import type { RunningEmulator } from '../../src/emulator/emulator.js';
import type { Expectation } from '../../src/matrix/expectation.js';
import { loadMatrix } from '../../src/matrix/load.js';
import type { ScanResult } from '../../src/result/model.js';
import { describeNetns } from '../helpers/netns.js';
import { type CliRun, runPortmatrixSync } from '../helpers/cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-conditions-'));
/** A scan that has not finished by then is killed and the test fails. */
const SCAN_TIMEOUT_MS = 60_000;
const MATRICES = ['aacc-7.1.2', 'client-sdk-4', 'cms-r20', 'ip-office-9.1', 'wfos-5.2.3'] as const;
const running: RunningEmulator[] = [];

afterAll(async () => {
  await Promise.all(running.map((emulator) => emulator.stop()));
  rmSync(work, { recursive: true, force: true });
});

function portmatrix(...args: string[]): CliRun {
  return runPortmatrixSync(args, { cwd: work, timeoutMs: SCAN_TIMEOUT_MS });
}

function portsOf(expectations: readonly Expectation[], transport: 'tcp' | 'udp'): string {
  const ports = expectations
    .filter((row) => row.transport === transport && !row.dynamic)
    .flatMap((row) => Array.from({ length: row.end - row.start + 1 }, (_, index) => row.start + index));
  return [...new Set(ports)].sort((a, b) => a - b).join(',') || 'none';
}

/** kind, port and row of every finding that is not conformant. */
function deviations(result: ScanResult): string[] {
  return result.conformance!.findings.filter((finding) => finding.kind !== 'conformant').map((finding) => `${finding.kind} ${finding.transport}/${finding.port} ${finding.ref?.rowId ?? '-'}`).sort();
}

/** Emulates the main component of `matrix` (with `conditions` holding) and scans its documented ports with `args`. */
async function scanInstall(matrix: string, name: string, conditions: string[], args: string[] = []): Promise<{ status: number | null; stderr: string; result: ScanResult; expectations: Expectation[] }> {
  const emulator = await startEmulator({ matrix, conditions, label: name });
  running.push(emulator);
  try {
    const outcome = portmatrix(
      'scan', emulator.address, '--matrix', matrix,
      // The well-known TCP ports too: nothing undocumented may listen there either.
      '--ports', `1-1024,${portsOf(emulator.expectations, 'tcp')}`.replace(/,none$/u, ''), '--udp', portsOf(emulator.expectations, 'udp'),
      // Port conformance only: what answers on a port is the service checks' matter, how it is probed
      // the scanners' (their own tests); a connect scan here, whoever runs the test.
      '--connect', '--profile', 'fast', '--no-progress', '--checks', 'none', '--fail-on', 'warning', '--format', 'json', '--output', `${name}.json`, ...args,
    );
    expect(outcome.stderr).not.toContain('internal error');
    const result = JSON.parse(readFileSync(path.join(work, `${name}.json`), 'utf8')) as ScanResult;
    return { ...outcome, result, expectations: emulator.expectations };
  } finally {
    await emulator.stop();
    running.splice(running.indexOf(emulator), 1);
  }
}

describeNetns('conditional rows: a standard install of each document is conformant', () => {
  for (const id of MATRICES) {
    it(`${id}: a standard install has no error and no warning; with "ha" declared the HA listeners are expected`, async () => {
      const standard = await scanInstall(id, `${id}-standard`, []);
      const findings = standard.result.conformance!.findings;
      expect(findings.filter((finding) => finding.severity === 'error' || finding.severity === 'warning').map((finding) => finding.message)).toEqual([]);
      expect(standard.status).toBe(0);

      // The same observations judged with the HA condition declared: each HA row of the selection
      // is now a listener the install lacks, and nothing else changes.
      const policy = path.join(work, 'ha.yaml');
      writeFileSync(policy, 'conditions: [ha]\n');
      const rejudged = portmatrix('report', `${id}-standard.json`, '--policy', policy, '--format', 'json', '--output', `${id}-ha.json`);
      expect(rejudged.stderr).toBe(`wrote ${id}-ha.json\n`);
      const withHa = JSON.parse(readFileSync(path.join(work, `${id}-ha.json`), 'utf8')) as ScanResult;
      const haRows = [...new Set(standard.expectations.filter((row) => row.condition?.kind === 'ha').map((row) => row.ref.rowId))].sort();
      const newDeviations = deviations(withHa).filter((entry) => !deviations(standard.result).includes(entry));
      expect([...new Set(newDeviations.map((entry) => entry.split(' ')[2]))].sort()).toEqual(haRows);
      expect(newDeviations.every((entry) => /^(missing-listener|optional-listener-disabled) /.test(entry))).toBe(true);
      if (id === 'aacc-7.1.2' || id === 'cms-r20' || id === 'wfos-5.2.3') expect(haRows.length).toBeGreaterThan(0);
    });
  }

  it('cms-r20: an HA pair is clean with --condition ha; undeclared, its HA ports are notices naming the condition', async () => {
    const { matrix } = await loadMatrix('cms-r20');
    const haPorts = matrix.rows.filter((row) => row.condition?.kind === 'ha').map((row) => row.ports);
    expect(haPorts).toEqual(['3077-3079']);
    const pair = await scanInstall('cms-r20', 'cms-ha', ['ha'], ['--condition', 'ha']);
    expect(deviations(pair.result)).toEqual([]);
    expect(pair.status).toBe(0);
    expect(pair.result.conformance!.conditions).toEqual(['ha']);
    // The document's own note travels with the result: with the CMS firewall off every port is open.
    expect(pair.result.conformance!.notes?.map((note) => note.kind)).toEqual(['firewall', 'scope']);

    const undeclared = portmatrix('report', 'cms-ha.json', '--fail-on', 'notice', '--format', 'json', '--output', 'cms-ha-undeclared.json');
    expect(undeclared.status).toBe(1);
    const judged = JSON.parse(readFileSync(path.join(work, 'cms-ha-undeclared.json'), 'utf8')) as ScanResult;
    expect(deviations(judged)).toEqual(['conditional-listener tcp/3077 cms-12', 'conditional-listener tcp/3078 cms-12', 'conditional-listener tcp/3079 cms-12']);
    expect(judged.conformance!.findings.find((finding) => finding.port === 3077)?.message).toContain('--condition ha');
  });
});
