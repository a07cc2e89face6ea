/** The audit as one JUnit file: every host's suites (one per host) in one <testsuites>, ids unique across hosts. */
import { renderJunitSuites } from '../../report/junit.js';
import type { AuditResult } from '../model.js';

export function renderAuditJunit(audit: AuditResult): string {
  const suites = audit.hosts.flatMap((host, index) => renderJunitSuites(host.result, index));
  return `${['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites>', ...suites, '</testsuites>'].join('\n')}\n`;
}
