import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkConformance } from '../../../src/conformance/diff.js';
import { checkPolicyRows, exitCodeFor } from '../../../src/conformance/policy.js';
import { parsePolicyText } from '../../../src/conformance/policy-file.js';
import type { Finding } from '../../../src/conformance/model.js';
import { PortmatrixError } from '../../../src/errors.js';
import { driftedHost, EXPECTATIONS, NOW } from './sample.js';

const POLICY_DIR = new URL('../../../fixtures/policy/', import.meta.url);

function readPolicy(name: string) {
  return parsePolicyText(readFileSync(new URL(name, POLICY_DIR), 'utf8'), `fixtures/policy/${name}`);
}

function policyError(name: string): string {
  try {
    readPolicy(name);
  } catch (error) {
    expect(error).toBeInstanceOf(PortmatrixError);
    expect((error as PortmatrixError).code).toBe('E_POLICY');
    expect((error as PortmatrixError).exitCode).toBe(2);
    return (error as PortmatrixError).message;
  }
  throw new Error(`${name} parsed without error`);
}

function severityOf(findings: Finding[], kind: Finding['kind'], port: number): string | undefined {
  return findings.find((finding) => finding.kind === kind && finding.port === port)?.severity;
}

describe('policy file', () => {
  it('reads severities, waivers and conditions', () => {
    const policy = readPolicy('waivers.yaml');
    expect(policy.severities).toEqual({ 'dynamic-port-open': 'off', 'listener-moved': 'error' });
    expect(policy.conditions).toEqual([]);
    expect(readPolicy('ha-conditions.yaml')).toMatchObject({ conditions: ['aams-7'], conditionsAt: ['fixtures/policy/ha-conditions.yaml:4:5'] });
    expect(policy.waivers[0]).toEqual({
      ports: '8080',
      transport: 'tcp',
      host: 'pbx-*.example.test',
      reason: 'one-X Portal proxy, accepted by change board',
      ticket: 'CHG-1042',
      expires: '2025-12-31',
    });
  });

  it.each([
    ['yaml-syntax.yaml', /^fixtures\/policy\/broken\/yaml-syntax\.yaml:4:5: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a \]$/],
    ['unknown-kind.yaml', /^fixtures\/policy\/broken\/unknown-kind\.yaml:3:3: severities\.rogue-listener: unknown finding kind "rogue-listener" \(kinds: missing-listener, /],
    ['unknown-waiver-kind.yaml', /^fixtures\/policy\/broken\/unknown-waiver-kind\.yaml:3:11: waivers\[0\]\.kind: unknown value "extra-listner": expected one of missing-listener, /],
    ['bad-date.yaml', /^fixtures\/policy\/broken\/bad-date\.yaml:4:14: waivers\[0\]\.expires: expected a real date YYYY-MM-DD, got "2025-02-30"$/],
    ['no-reason.yaml', /^fixtures\/policy\/broken\/no-reason\.yaml:2:5: waivers\[0\]\.reason: missing required field "reason"$/],
    ['no-expiry.yaml', /^fixtures\/policy\/broken\/no-expiry\.yaml:2:5: waivers\[0\]\.expires: missing required field "expires"$/],
    ['bad-severity.yaml', /^fixtures\/policy\/broken\/bad-severity\.yaml:2:19: severities\.extra-listener: unknown value "fatal": expected one of error, warning, notice, off$/],
    ['bad-port.yaml', /^fixtures\/policy\/broken\/bad-port\.yaml:2:11: waivers\[0\]\.port: port 70000 is outside 1-65535$/],
    ['unknown-field.yaml', /^fixtures\/policy\/broken\/unknown-field\.yaml:4:5: waivers\[0\]\.expiry: unknown field "expiry" \(allowed: port, transport, host, kind, reason, ticket, expires\)$/],
  ])('%s gives one located line', (name, pattern) => {
    const message = policyError(`broken/${name}`);
    expect(message).not.toContain('\n');
    expect(message).toMatch(pattern);
  });

  it('treats an empty file as the default policy', () => {
    expect(parsePolicyText('', 'empty.yaml')).toEqual({ source: 'empty.yaml', severities: {}, waivers: [], conditions: [], conditionsAt: [] });
  });
});

describe('applying a policy', () => {
  const base = () => checkConformance({ expectations: EXPECTATIONS, hosts: [driftedHost()], now: NOW });

  it('uses the default severities of design.md', () => {
    const findings = base();
    expect(severityOf(findings, 'missing-listener', 443)).toBe('error');
    expect(severityOf(findings, 'extra-listener', 8080)).toBe('error');
    expect(severityOf(findings, 'optional-listener-enabled', 23)).toBe('warning');
    expect(severityOf(findings, 'filtered-port-reachable', 21)).toBe('warning');
    expect(severityOf(findings, 'internal-port-exposed', 50791)).toBe('warning');
    expect(severityOf(findings, 'optional-listener-disabled', 5060)).toBe('notice');
    expect(severityOf(findings, 'dynamic-port-open', 45000)).toBe('notice');
    expect(severityOf(findings, 'udp-unconfirmed', 161)).toBe('notice');
  });

  it('--strict makes every deviation an error but leaves unconfirmed and conformant alone', () => {
    const findings = checkConformance({ expectations: EXPECTATIONS, hosts: [driftedHost()], now: NOW, strict: true });
    const bySeverity = new Map<string, string[]>();
    for (const finding of findings) bySeverity.set(finding.severity, [...(bySeverity.get(finding.severity) ?? []), finding.kind]);
    expect(new Set(bySeverity.get('notice'))).toEqual(new Set(['udp-unconfirmed']));
    expect(bySeverity.get('warning')).toBeUndefined();
    expect(new Set(bySeverity.get('off'))).toEqual(new Set(['conformant']));
    expect(bySeverity.get('error')).toHaveLength(8);
  });

  it('applies severity overrides, live waivers, and says when a waiver has expired', () => {
    const policy = { ...readPolicy('waivers.yaml'), conditions: ['ipo-ha'] };
    const findings = checkConformance({ expectations: EXPECTATIONS, hosts: [driftedHost()], now: NOW, policy });
    expect(severityOf(findings, 'dynamic-port-open', 45000)).toBe('off');
    expect(severityOf(findings, 'listener-moved', 50812)).toBe('error');
    const waived = findings.find((finding) => finding.port === 8080);
    expect(waived).toMatchObject({ severity: 'off', waiver: { ticket: 'CHG-1042', expires: '2025-12-31' } });
    expect(waived?.waiver?.expired).toBeUndefined();
    const expired = findings.find((finding) => finding.port === 21);
    expect(expired).toMatchObject({ kind: 'filtered-port-reachable', severity: 'warning', waiver: { ticket: 'CHG-0977', expired: true } });
    expect(expired?.message).toContain('expired 2025-01-31: no longer suppressed');
    // conditions: tcp/7070 "Open if HA" is open on this host, so it is checked and conformant.
    expect(findings.find((finding) => finding.port === 7070)?.kind).toBe('conformant');
  });

  it('holds a waiver through its expiry day (UTC) and not a moment longer', () => {
    const policy = readPolicy('waivers.yaml');
    const at = (iso: string) =>
      checkConformance({ expectations: EXPECTATIONS, hosts: [driftedHost()], now: new Date(iso), policy }).find((finding) => finding.port === 8080)?.severity;
    expect(at('2025-12-31T23:59:59Z')).toBe('off');
    expect(at('2026-01-01T00:00:00Z')).toBe('error');
  });

  it('matches waivers by host pattern and transport', () => {
    const policy = readPolicy('waivers.yaml');
    const other = { ...driftedHost(), target: 'other-host', name: 'other-host' };
    const findings = checkConformance({ expectations: EXPECTATIONS, hosts: [other], now: NOW, policy });
    expect(severityOf(findings, 'extra-listener', 8080)).toBe('error');
  });

  it('maps findings to exit codes at each --fail-on level', () => {
    const findings = base();
    expect(exitCodeFor(findings, 'error')).toBe(1);
    expect(exitCodeFor(findings, 'never')).toBe(0);
    const noticesOnly = findings.filter((finding) => finding.severity === 'notice' || finding.severity === 'off');
    expect(exitCodeFor(noticesOnly, 'error')).toBe(0);
    expect(exitCodeFor(noticesOnly, 'warning')).toBe(0);
    expect(exitCodeFor(noticesOnly, 'notice')).toBe(1);
    expect(exitCodeFor([], 'notice')).toBe(0);
  });
});

describe('policy rows against the selection', () => {
  async function select(matrixId: string, components: string[], platform: string) {
    const { loadMatrix } = await import('../../../src/matrix/load.js');
    const { selectExpectations } = await import('../../../src/matrix/select.js');
    const { matrix } = await loadMatrix(matrixId);
    return { matrix, ...selectExpectations(matrix, { components, platform }) };
  }
  const rowError = (run: () => void): string => {
    try {
      run();
    } catch (error) {
      expect((error as PortmatrixError).code).toBe('E_POLICY');
      return (error as PortmatrixError).message;
    }
    throw new Error('the policy was accepted');
  };

  it('accepts a conditional row of the selection', async () => {
    const { matrix, expectations } = await select('aacc-7.1.2', ['aams'], 'linux');
    expect(() => checkPolicyRows(readPolicy('ha-conditions.yaml'), expectations, matrix.rows)).not.toThrow();
  });

  it('names file:line:col for an unknown row, a row of an unselected component, and a row without a condition', async () => {
    const office = await select('ip-office-9.1', ['ip-office'], 'ip500v2');
    const unknown = parsePolicyText('conditions:\n  - "*"\n  - ipo-ha\n', 'p.yaml');
    expect(rowError(() => checkPolicyRows(unknown, office.expectations, office.matrix.rows))).toBe('p.yaml:3:5: conditions[1]: unknown condition or row "ipo-ha"');
    const aacc = await select('aacc-7.1.2', ['contact-center'], 'windows');
    expect(rowError(() => checkPolicyRows(readPolicy('ha-conditions.yaml'), aacc.expectations, aacc.matrix.rows))).toBe(
      'fixtures/policy/ha-conditions.yaml:4:5: conditions[0]: row "aams-7" belongs to component aams, which is not selected',
    );
    const plain = parsePolicyText(`conditions: [${office.expectations[0]!.ref.rowId}]\n`, 'q.yaml');
    expect(rowError(() => checkPolicyRows(plain, office.expectations, office.matrix.rows))).toMatch(/^q\.yaml:1:14: conditions\[0\]: row "[\w.-]+" has no condition \(documented open\)$/);
  });
});
