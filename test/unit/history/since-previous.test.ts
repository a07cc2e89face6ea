import { describe, expect, it } from 'vitest';
import { diffResults } from '../../../src/conformance/drift.js';
import { checkConformance } from '../../../src/conformance/diff.js';
import { compareWithPrevious } from '../../../src/history/since-previous.js';
import type { ScanResult } from '../../../src/result/model.js';
import { buildResult, conformantHost, driftedHost, EXPECTATIONS, NOW } from '../conformance/sample.js';

const JUDGE = { expectations: EXPECTATIONS, strict: false };

/** The same host judged against an earlier edition of the matrix: other row ids, another id. */
function judgedUnderOlderMatrix(result: ScanResult): ScanResult {
  const expectations = EXPECTATIONS.map((expectation) => ({ ...expectation, ref: { ...expectation.ref, matrix: 'ip-office-9.0', rowId: `old-${expectation.ref.rowId}` } }));
  const findings = checkConformance({ expectations, hosts: result.hosts, strict: false, now: NOW });
  return { ...result, conformance: { ...result.conformance!, matrix: { ...result.conformance!.matrix, id: 'ip-office-9.0', version: '9.0' }, expectations, findings } };
}

describe('since the previous run', () => {
  it('under the same matrix: the drift of the two results, nothing judged again', () => {
    const before = buildResult({ hosts: [conformantHost()] });
    const after = buildResult({ hosts: [{ ...driftedHost(), address: conformantHost().address, target: conformantHost().target }] });
    const since = compareWithPrevious(before, after, 'h/latest', JUDGE);
    expect(since.matrixChanged).toBeUndefined();
    expect(since.drift).toEqual(diffResults(before, after));
    expect(since.source).toBe('h/latest');
  });

  it('a previous run of another matrix version: said so, and no false drift', () => {
    const after = buildResult({ hosts: [driftedHost()] });
    const before = judgedUnderOlderMatrix(after);
    // Compared as they were judged, every finding would appear and resolve (other rows).
    const naive = diffResults(before, after).hosts[0]!;
    expect(naive.appeared.length).toBeGreaterThan(0);
    expect(naive.resolved.length).toBe(naive.appeared.length);

    const since = compareWithPrevious(before, after, 'old.json', JUDGE);
    expect(since.matrixChanged).toEqual({ before: 'ip-office-9.0', after: 'ip-office-9.1' });
    expect(since.drift.equal).toBe(true);
    expect(since.drift.before.matrices).toEqual(['ip-office-9.0']);
    expect(since.drift.after.matrices).toEqual(['ip-office-9.1']);
  });

  it('a previous run of another matrix version: a real change on the host still shows, exactly', () => {
    const host = conformantHost();
    const after = buildResult({ hosts: [{ ...driftedHost(), address: host.address, target: host.target }] });
    const before = judgedUnderOlderMatrix(buildResult({ hosts: [host] }));
    const since = compareWithPrevious(before, after, 'old.json', JUDGE);
    const expected = diffResults(buildResult({ hosts: [host] }), after).hosts[0]!;
    const drift = since.drift.hosts[0]!;
    expect(drift.ports).toEqual(expected.ports);
    expect(drift.appeared).toEqual(expected.appeared);
    expect(drift.resolved).toEqual(expected.resolved);
  });

  it('this run without a matrix: only ports are compared', () => {
    const judged = buildResult({ hosts: [driftedHost()] });
    const { conformance: _none, ...observed } = judged;
    const since = compareWithPrevious(judged, observed, 'old.json', undefined);
    expect(since.matrixChanged).toEqual({ before: 'ip-office-9.1', after: 'no matrix' });
    expect(since.drift.equal).toBe(true);
    expect(since.drift.hosts[0]!.resolved).toEqual([]);
  });
});
