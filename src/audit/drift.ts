/** An audit as one run to diff: every host, each judged against its own matrix. Pure. */
import { driftRunOf, type DriftRun } from '../conformance/drift.js';
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
