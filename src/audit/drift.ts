/** An audit as one run to diff: every host, each judged against its own matrix. Pure. */
import { diffRuns, driftRunOf, type Drift, type DriftRun } from '../conformance/drift.js';
import { judgeLikeCurrent, type Judge } from '../history/since-previous.js';
import type { AuditResult } from './model.js';

export function auditDriftRun(audit: AuditResult): DriftRun {
  const runs = audit.hosts.map((host) => driftRunOf(host.result));
  return {
    startedAt: audit.startedAt,
    matrices: [...new Set(runs.flatMap((run) => run.matrices))].sort(),
    hosts: runs.flatMap((run) => run.hosts),
    findings: runs.flatMap((run) => run.findings),
    services: runs.flatMap((run) => run.services),
  };
}

/** An audit's "since the previous run": the drift, and the hosts the previous run judged against another matrix. */
export interface AuditSincePrevious {
  drift: Drift;
  matrixChanged: { address: string; before: string; after: string }[];
}

const matrixOf = (host: AuditResult['hosts'][number]): string => host.result.conformance?.matrix.id ?? 'no matrix';

/**
 * The previous audit compared host by host as a scan is (src/history/since-previous.ts): a host
 * judged against another matrix then is judged again against its matrix now (`judgeOf` gives its
 * check), so a new document version is no drift.
 */
export function auditSincePrevious(previous: AuditResult, current: AuditResult, judgeOf: (address: string) => Judge | undefined): AuditSincePrevious {
  const now = new Map(current.hosts.map((host) => [host.address, host]));
  const matrixChanged: AuditSincePrevious['matrixChanged'] = [];
  const hosts = previous.hosts.map((host) => {
    const counterpart = now.get(host.address);
    if (!counterpart || matrixOf(host) === matrixOf(counterpart)) return host;
    matrixChanged.push({ address: host.address, before: matrixOf(host), after: matrixOf(counterpart) });
    return { ...host, result: judgeLikeCurrent(host.result, counterpart.result, judgeOf(host.address)) };
  });
  const drift = diffRuns(auditDriftRun({ ...previous, hosts }), auditDriftRun(current));
  // The previous side keeps the names of the matrices it was judged against when it ran.
  return { drift: { ...drift, before: { ...drift.before, matrices: auditDriftRun(previous).matrices } }, matrixChanged };
}
