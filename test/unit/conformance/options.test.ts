/** The scan command's conformance flags: checked before scanning, and the built-in matrix end to end (no sockets). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toConformanceRequest } from '../../../src/cli/conformance-options.js';
import { planOutputs, shouldColor } from '../../../src/output/reports.js';
import { attachConformance, conformanceExitCode, prepareConformance } from '../../../src/run/conformance-check.js';
import { PortmatrixError } from '../../../src/errors.js';
import type { Expectation } from '../../../src/matrix/expectation.js';
import type { HostScan, Observation } from '../../../src/model/port-state.js';
import { buildResult } from './sample.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const policyFile = path.join(repoRoot, 'fixtures/policy/waivers.yaml');

async function failure(pending: Promise<unknown> | (() => unknown)): Promise<PortmatrixError> {
  try {
    await (typeof pending === 'function' ? pending() : pending);
  } catch (error) {
    expect(error).toBeInstanceOf(PortmatrixError);
    expect((error as PortmatrixError).exitCode).toBe(2);
    return error as PortmatrixError;
  }
  throw new Error('expected a PortmatrixError');
}

/** A host that runs exactly the documented default listeners of the selection. */
function hostMatching(expectations: readonly Expectation[]): HostScan {
  const observations: Observation[] = [];
  for (const expectation of expectations) {
    // A standard install: listeners the document makes conditional (HA, a legacy port ...) do not run.
    if (expectation.dynamic || expectation.internal || expectation.condition || expectation.state !== 'open') continue;
    if (observations.some((observation) => observation.transport === expectation.transport && observation.port === expectation.start)) continue;
    observations.push({ transport: expectation.transport, port: expectation.start, state: 'open', reason: expectation.transport === 'tcp' ? 'syn-ack' : 'udp-response', rttMs: 1, attempts: 1 });
  }
  observations.sort((a, b) => a.transport.localeCompare(b.transport) || a.port - b.port);
  const count = (transport: 'tcp' | 'udp') => observations.filter((observation) => observation.transport === transport).length;
  return {
    target: '198.18.0.2',
    address: '198.18.0.2',
    family: 4,
    plan: { tcp: '1-65535', udp: '1-65535' },
    observations,
    folded: [
      { transport: 'tcp', state: 'closed', reason: 'conn-refused', count: 65535 - count('tcp') },
      { transport: 'udp', state: 'closed', reason: 'icmp-port-unreach', count: 65535 - count('udp') },
    ],
    complete: true,
    status: { state: 'up', reason: 'port-answered' },
  };
}

describe('prepareConformance', () => {
  it('loads the built-in IP Office 9.1 matrix, selection and policy; a host with the documented listeners exits 0', async () => {
    const check = await prepareConformance(toConformanceRequest({ matrix: 'ip-office-9.1', component: ['ip-office', 'voicemail-pro'], platform: 'linux', policy: policyFile, failOn: 'notice' })!);
    expect(check.selection).toEqual({ matrix: 'ip-office-9.1', components: ['ip-office', 'voicemail-pro'], platform: 'linux' });
    expect(await planOutputs(undefined, undefined)).toEqual([{ format: 'table' }]);
    const template = buildResult({ hosts: [] });
    const host = hostMatching(check.expectations);
    const result = attachConformance(check, { ...template, hosts: [host] });
    const deviations = result.conformance!.findings.filter((finding) => finding.kind !== 'conformant');
    expect(deviations).toEqual([]);
    expect(conformanceExitCode(result)).toBe(0);
    expect(result.conformance!.findings.every((finding) => finding.ref?.matrix === 'ip-office-9.1')).toBe(true);

    // Take one documented, non-optional listener away: exactly one error citing its row.
    const required = check.expectations.find((expectation) => expectation.state === 'open' && !expectation.optional && !expectation.internal && !expectation.dynamic && !expectation.condition)!;
    const broken = { ...host, observations: host.observations.filter((observation) => !(observation.transport === required.transport && observation.port === required.start)) };
    const after = attachConformance(check, { ...template, hosts: [broken] });
    const errors = after.conformance!.findings.filter((finding) => finding.severity !== 'off');
    expect(errors.map((finding) => [finding.kind, finding.ref?.rowId])).toEqual([['missing-listener', required.ref.rowId]]);
    expect(conformanceExitCode(after)).toBe(1);
  });

  it('rejects bad flags before anything is scanned', async () => {
    expect((await failure(() => toConformanceRequest({ policy: policyFile }))).message).toBe('--policy needs --matrix');
    expect((await failure(() => toConformanceRequest({ condition: ['ha'] }))).message).toBe('--condition needs --matrix');
    expect((await failure(prepareConformance({ matrix: 'ip-office-9.1', conditions: ['ha', 'hs'] }))).message).toBe('--condition: conditions[1]: unknown condition or row "hs"');
    expect((await failure(prepareConformance({ matrix: 'ip-office-9.1', components: ['nope'] }))).message).toContain('unknown component "nope"');
    expect((await failure(prepareConformance({ matrix: 'no-such-matrix' }))).code).toBe('E_MATRIX_NOT_FOUND');
    expect((await failure(prepareConformance({ matrix: 'ip-office-9.1', policy: 'fixtures/policy/missing.yaml' }))).message).toBe(
      'cannot read policy file fixtures/policy/missing.yaml: ENOENT',
    );
    const broken = path.join(repoRoot, 'fixtures/policy/broken/no-expiry.yaml');
    expect((await failure(prepareConformance({ matrix: 'ip-office-9.1', policy: broken }))).message).toMatch(/no-expiry\.yaml:2:5: waivers\[0\]\.expires: missing required field "expires"$/);
    expect((await failure(planOutputs(['json', 'svg'], undefined))).message).toBe('unknown --format "svg"');
  });
});

describe('planOutputs and colour', () => {
  it('names one file per format from a base, stripping a report extension', async () => {
    const base = path.join(repoRoot, 'test-artifacts-nonexistent-but-folder-exists');
    expect(await planOutputs(['json', 'html', 'junit'], `${base}.json`)).toEqual([
      { format: 'json', path: `${base}.json` },
      { format: 'html', path: `${base}.html` },
      { format: 'junit', path: `${base}.junit.xml` },
    ]);
    expect(await planOutputs(['html'], `${base}.report`)).toEqual([{ format: 'html', path: `${base}.report` }]);
  });

  it('colours only a terminal, and never with NO_COLOR or TERM=dumb', () => {
    const tty = { write: () => true, isTTY: true };
    expect(shouldColor({ stdout: tty, env: {} })).toBe(true);
    expect(shouldColor({ stdout: tty, env: { NO_COLOR: '1' } })).toBe(false);
    expect(shouldColor({ stdout: tty, env: { TERM: 'dumb' } })).toBe(false);
    expect(shouldColor({ stdout: { write: () => true }, env: {} })).toBe(false);
  });
});
