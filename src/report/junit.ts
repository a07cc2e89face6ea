/**
 * JUnit XML (the Ant format Jenkins and GitLab read): one testsuite per host, one testcase per
 * expected listener and per listener outside the matrix. A testcase fails when its finding is at
 * or above the result's --fail-on level; ports the plan did not cover are skipped. Waived
 * findings pass and are listed in the suite's system-out. Validated against
 * fixtures/junit/junit-ant.xsd in the tests.
 */
import { SERVICE_FINDING_KINDS, type Finding, type HostFinding } from '../conformance/model.js';
import { failsAt } from '../conformance/policy.js';
import type { ScanResult } from '../result/model.js';
import type { HostScan } from '../model/port-state.js';
import { escapeXml } from '../util/untrusted-text.js';
import { buildReportView, formatDocumented, formatObserved, formatPort, formatRef, formatWaiver, KIND_TITLES } from './view.js';

const x = escapeXml;

interface TestCase {
  classname: string;
  name: string;
  outcome: { type: 'pass' } | { type: 'skipped' } | { type: 'failure'; finding: Finding } | { type: 'error'; finding: HostFinding };
}

export function renderJunit(result: ScanResult): string {
  return `${['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites>', ...renderJunitSuites(result), '</testsuites>'].join('\n')}\n`;
}

/** The <testsuite> lines of a result, one per host; ids count from firstId (a fleet audit joins many results in one file). */
export function renderJunitSuites(result: ScanResult, firstId = 0): string[] {
  const view = buildReportView(result);
  const conformance = result.conformance;
  const failOn = conformance?.failOn ?? 'never';
  const prefix = conformance ? `portmatrix.${conformance.matrix.id}` : 'portmatrix';
  // The schema wants a local time without zone or fraction; results store UTC, so this is UTC.
  const timestamp = result.startedAt.slice(0, 19);
  const durationSeconds = Math.max(0, (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000);
  const out: string[] = [];

  view.portMap.forEach((hostMap, hostIndex) => {
    const index = firstId + hostIndex;
    // The host is a package level of its own, so every case names it: dots and colons of the
    // address would split it into levels, so they become underscores.
    const hostPrefix = `${prefix}.${hostMap.host.address.replace(/[.:]/g, '_')}`;
    const cases: TestCase[] = [];
    // A host that was not up is one test that could not run (JUnit's error), not a failure per port.
    const notUp = view.hostFindings.find((finding) => finding.host === hostMap.host.address);
    const outcomeOf = (finding: Finding | undefined): TestCase['outcome'] =>
      !finding ? { type: 'skipped' } : failsAt(finding.severity, failOn) ? { type: 'failure', finding } : { type: 'pass' };
    // Below error (a policy's choice: a site down for maintenance) it fails only at --fail-on, like a finding.
    if (notUp) cases.push({ classname: `${hostPrefix}.host`, name: 'host status', outcome: notUp.severity === 'error' || failsAt(notUp.severity, failOn) ? { type: 'error', finding: notUp } : { type: 'pass' } });
    for (const { component, entries } of notUp ? [] : hostMap.components) {
      for (const entry of entries) {
        if (entry.dynamic) continue; // a media range is not a listener; its open ports are cases below
        cases.push({
          classname: `${hostPrefix}.${component}`,
          name: `${formatPort(entry.transport, entry.start)} ${entry.protocol} (${entry.ref.table} row ${entry.ref.row})`,
          outcome: outcomeOf(entry.finding),
        });
      }
    }
    for (const extra of hostMap.extras) {
      cases.push({
        classname: `${hostPrefix}.${extra.kind === 'dynamic-port-open' ? 'dynamic-range' : 'not-in-matrix'}`,
        name: `${formatPort(extra.transport, extra.port)} ${KIND_TITLES[extra.kind].toLowerCase()}`,
        outcome: outcomeOf(extra),
      });
    }
    // One case per service check a matrix row asked for: it fails with its worst failing finding.
    for (const entry of view.services.filter((candidate) => candidate.ref && candidate.check.host === hostMap.host.address)) {
      const failing = entry.findings.find((finding) => failsAt(finding.severity, failOn));
      cases.push({
        classname: `${prefix}.service`,
        name: `${formatPort('tcp', entry.check.port)} ${entry.check.check} check (${entry.ref?.table ?? ''} row ${entry.ref?.row ?? ''})`,
        outcome: failing ? { type: 'failure', finding: failing } : { type: 'pass' },
      });
    }
    if (!conformance) {
      for (const observation of hostMap.host.observations.filter((candidate) => candidate.state === 'open')) {
        cases.push({ classname: `${hostPrefix}.open`, name: `${formatPort(observation.transport, observation.port)} open`, outcome: { type: 'pass' } });
      }
    }

    const failures = cases.filter((testCase) => testCase.outcome.type === 'failure').length;
    const skipped = cases.filter((testCase) => testCase.outcome.type === 'skipped').length;
    const errors = cases.filter((testCase) => testCase.outcome.type === 'error').length;
    const host = hostMap.host;
    out.push(
      `  <testsuite package="${x(prefix)}" id="${x(index)}" name="${x(hostPrefix)}" timestamp="${x(timestamp)}" hostname="${x(host.address)}"` +
        ` tests="${x(cases.length)}" failures="${x(failures)}" errors="${x(errors)}" skipped="${x(skipped)}" time="${x(durationSeconds.toFixed(3))}">`,
      '    <properties>',
      ...properties(result, host).map(([name, value]) => `      <property name="${x(name)}" value="${x(value)}"/>`),
      '    </properties>',
    );
    for (const testCase of cases) {
      const open = `    <testcase classname="${x(testCase.classname)}" name="${x(testCase.name)}" time="0"`;
      if (testCase.outcome.type === 'pass') out.push(`${open}/>`);
      else if (testCase.outcome.type === 'skipped') out.push(`${open}><skipped/></testcase>`);
      else if (testCase.outcome.type === 'error') {
        const finding = testCase.outcome.finding;
        out.push(`${open}>`, `      <error type="${finding.kind}" message="${x(finding.message)}">${x(`host ${finding.status.state} (${finding.status.reason})`)}</error>`, '    </testcase>');
      }
      else {
        const finding = testCase.outcome.finding;
        const detail = [
          `${finding.severity}: ${finding.message}`,
          `documented: ${formatDocumented(finding.expected)}; observed: ${formatObserved(finding)}`,
          `matrix row: ${formatRef(finding.ref)}`,
          finding.banner === undefined ? '' : `banner: ${finding.banner}`,
          finding.detail === undefined || !SERVICE_FINDING_KINDS.has(finding.kind) ? '' : `seen: ${finding.detail}`,
          formatWaiver(finding),
        ]
          .filter((line) => line !== '')
          .map(x)
          .join('\n');
        out.push(`${open}>`, `      <failure type="${x(finding.kind)}" message="${x(finding.message)}">${detail}</failure>`, '    </testcase>');
      }
    }
    const accepted = hostMap.components
      .flatMap((group) => group.entries.map((entry) => entry.finding))
      .concat(hostMap.extras)
      .filter((finding): finding is Finding => finding !== undefined && finding.kind !== 'conformant' && (finding.waiver !== undefined || finding.severity === 'off'));
    const systemOut = accepted.map((finding) => x(`${formatPort(finding.transport, finding.port)} ${KIND_TITLES[finding.kind]}: ${formatWaiver(finding)}`)).join('\n');
    out.push(`    <system-out>${systemOut}</system-out>`, '    <system-err></system-err>', '  </testsuite>');
  });
  return out;
}

function properties(result: ScanResult, host: HostScan): [string, string][] {
  const conformance = result.conformance;
  const list: [string, string][] = [
    ['address', host.address],
    ['target', host.target],
    ...(host.name === undefined ? [] : [['name', host.name] as [string, string]]),
    ['tool', `${result.tool.name} ${result.tool.version}`],
    ['complete', String(result.complete)],
    ['vantage', result.vantage.hostname],
  ];
  if (conformance) {
    list.push(
      ['matrix', conformance.matrix.id],
      ['document', conformance.matrix.document],
      ['components', conformance.selection.components.join(',')],
      ['platform', conformance.selection.platform],
      ['fail-on', conformance.failOn],
    );
  }
  return list;
}
