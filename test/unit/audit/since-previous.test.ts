import { describe, expect, it } from 'vitest';
import { auditSincePrevious } from '../../../src/audit/drift.js';
import type { AuditHost, AuditResult } from '../../../src/audit/model.js';
import { renderAuditMarkdown } from '../../../src/audit/report/markdown.js';
import { renderAuditTable } from '../../../src/audit/report/table.js';
import { assembleAudit } from '../../../src/audit/run-audit.js';
import { checkConformance } from '../../../src/conformance/diff.js';
import type { ScanResult } from '../../../src/result/model.js';
import { buildResult, conformantHost, driftedHost, EXPECTATIONS, NOW } from '../conformance/sample.js';

function audit(hosts: AuditHost[], startedAt: string): AuditResult {
  return assembleAudit({
    startedAt,
    finishedAt: startedAt,
    complete: true,
    inventory: { file: 'fleet.yaml', sha256: 'abc', hosts: hosts.length },
    parameters: { parallel: 2, warnWaiverDays: 14 },
    hosts,
    now: NOW,
  });
}

function host(address: string, result: ScanResult): AuditHost {
  return { address, tags: [], exitCode: 1, result };
}

function drifted(address: string): ScanResult {
  return buildResult({ hosts: [{ ...driftedHost(), target: address, address }] });
}

/** The same observations judged against an earlier edition of the matrix (other row ids, another id). */
function underOlderMatrix(result: ScanResult): ScanResult {
  const expectations = EXPECTATIONS.map((expectation) => ({ ...expectation, ref: { ...expectation.ref, matrix: 'ip-office-9.0', rowId: `old-${expectation.ref.rowId}` } }));
  const findings = checkConformance({ expectations, hosts: result.hosts, strict: false, now: NOW });
  return { ...result, conformance: { ...result.conformance!, matrix: { ...result.conformance!.matrix, id: 'ip-office-9.0' }, expectations, findings } };
}

describe("an audit's since the previous run", () => {
  it('a host judged against another matrix last time: judged again, no false drift, and the section says which host', () => {
    const judge = { expectations: EXPECTATIONS, strict: false };
    const now = audit([host('198.18.0.1', drifted('198.18.0.1')), host('198.18.0.2', drifted('198.18.0.2'))], '2025-06-02T00:00:00.000Z');
    const before = audit([host('198.18.0.1', underOlderMatrix(drifted('198.18.0.1'))), host('198.18.0.2', drifted('198.18.0.2'))], '2025-06-01T00:00:00.000Z');
    const since = auditSincePrevious(before, now, () => judge);
    expect(since.matrixChanged).toEqual([{ address: '198.18.0.1', before: 'ip-office-9.0', after: 'ip-office-9.1' }]);
    expect(since.drift.equal).toBe(true);
    expect(since.drift.before.matrices).toEqual(['ip-office-9.0', 'ip-office-9.1']);
    const note = 'Host 198.18.0.1 in the previous run was judged against ip-office-9.0: its ports are judged again against ip-office-9.1 here';
    expect(renderAuditTable(now, { sincePrevious: since })).toContain(note);
    expect(renderAuditMarkdown(now, since)).toContain(note);
  });

  it('a real change on a host still shows', () => {
    const judge = { expectations: EXPECTATIONS, strict: false };
    const address = conformantHost().address;
    const now = audit([host(address, drifted(address))], '2025-06-02T00:00:00.000Z');
    const before = audit([host(address, underOlderMatrix(buildResult({ hosts: [conformantHost()] })))], '2025-06-01T00:00:00.000Z');
    const drift = auditSincePrevious(before, now, () => judge).drift.hosts[0]!;
    expect(drift.status).toBe('changed');
    expect(drift.appeared.map((finding) => finding.kind)).toContain('extra-listener');
    expect(drift.resolved).toEqual([]);
  });
});
