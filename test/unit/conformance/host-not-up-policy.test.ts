/**
 * host-not-up through the policy: a site known to be down for maintenance. By default a host that
 * was not up is an error and the run exits 3; `severities: {host-not-up: notice}` reports it at
 * notice and it counts at --fail-on like any finding, in the run's exit code, every report, and
 * `portmatrix report --policy` (the built CLI).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../../src/conformance/policy-file.js';
import { rejudgeResult } from '../../../src/conformance/rejudge.js';
import { renderJson } from '../../../src/report/json.js';
import { renderJunit } from '../../../src/report/junit.js';
import { renderMarkdown } from '../../../src/report/markdown.js';
import { renderTable } from '../../../src/report/table.js';
import { buildReportView } from '../../../src/report/view.js';
import { decideExitCode } from '../../../src/run/exit-code.js';
import type { HostScan } from '../../../src/model/port-state.js';
import type { ScanResult } from '../../../src/result/model.js';
import { buildResult, conformantHost, NOW } from './sample.js';

const REPO = path.join(import.meta.dirname, '..', '..', '..');
const work = mkdtempSync(path.join(tmpdir(), 'pm-host-not-up-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function downHost(): HostScan {
  const { name: _other, ...host } = conformantHost();
  return { ...host, target: '198.18.7.1', address: '198.18.7.1', observations: [], folded: [], status: { state: 'down', reason: 'no-response' } } as HostScan;
}

const MAINTENANCE = parsePolicyText('severities:\n  host-not-up: notice\n', 'maintenance.yaml');
const exitCodeOf = (result: ScanResult): number => decideExitCode(result);
const judged = (failOn: 'error' | 'notice') => rejudgeResult(buildResult({ hosts: [conformantHost(), downHost()] }), { policy: MAINTENANCE, strict: false, failOn, now: NOW });

describe('host-not-up in the policy', () => {
  it('is a kind a policy may set; an unknown kind names it among the kinds', () => {
    expect(MAINTENANCE.severities['host-not-up']).toBe('notice');
    expect(() => parsePolicyText('severities:\n  host-gone: notice\n', 'p.yaml')).toThrow(/unknown finding kind "host-gone" \(kinds: .*host-not-up/);
  });

  it('by default: error, exit 3, a JUnit error', () => {
    const result = buildResult({ hosts: [conformantHost(), downHost()] });
    expect(result.conformance!.hostFindings.map((finding) => finding.severity)).toEqual(['error']);
    expect(exitCodeOf(result)).toBe(3);
    expect(buildReportView(result).exitCode).toBe(3);
    expect(renderJunit(result)).toMatch(/<testcase [^>]*name="host status"[^>]*>\s*<error/);
  });

  it('lowered to notice: reported at notice, counted at --fail-on (0 at error, 1 at notice), never 3', () => {
    const atError = judged('error');
    expect(atError.conformance!.hostFindings.map((finding) => `${finding.host} ${finding.severity}`)).toEqual(['198.18.7.1 notice']);
    expect(exitCodeOf(atError)).toBe(0);
    expect(buildReportView(atError).exitCode).toBe(0);
    expect(renderTable(atError)).toMatch(/Hosts not judged \(1\)[\s\S]*│ notice\s+│ 198\.18\.7\.1/);
    expect(renderMarkdown(atError)).toContain('| notice | 198.18.7.1 | down |');
    expect(renderJunit(atError)).not.toMatch(/<error/);
    const atNotice = judged('notice');
    expect(exitCodeOf(atNotice)).toBe(1);
    expect(renderJunit(atNotice)).toMatch(/name="host status"[^>]*>\s*<error/);
  });

  it('portmatrix report --policy judges a saved result again: exit 3 before, 0 under the maintenance policy', () => {
    writeFileSync(path.join(work, 'saved.json'), renderJson(buildResult({ hosts: [conformantHost(), downHost()] })));
    writeFileSync(path.join(work, 'maintenance.yaml'), 'severities:\n  host-not-up: notice\n');
    const report = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO, 'bin/portmatrix.js'), 'report', 'saved.json', '--format', 'json', ...args], { cwd: work, encoding: 'utf8' });
    expect(report('--fail-on', 'error').status).toBe(3);
    const lowered = report('--policy', 'maintenance.yaml');
    expect(lowered.status, lowered.stderr).toBe(0);
    expect(JSON.parse(lowered.stdout).conformance.hostFindings[0].severity).toBe('notice');
  });
});
