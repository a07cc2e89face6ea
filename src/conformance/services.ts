/**
 * Service-check findings: what answered on a documented port, held against the row that names
 * its protocol and the policy's thresholds. Pure. Only checks made because a row documents the
 * protocol give findings (each cites that row); --checks all adds observations, not findings.
 *
 * - mismatch: documented HTTPS answering plain HTTP, SSH answering something else -> service-mismatch
 * - no answer -> service-no-answer
 * - TLS: any accepted version below the floor -> tls-below-floor (the lowest is named)
 * - certificate: outside its validity period -> certificate-expired; within N days of notAfter ->
 *   certificate-expiring; signed by its own key -> certificate-self-signed; does not name the host
 *   as scanned -> certificate-name-mismatch
 */
import type { CertificateSeen, ServiceCheck, TlsSeen } from '../checks/model.js';
import { TLS_VERSIONS } from '../checks/model.js';
import type { Expectation } from '../matrix/expectation.js';
import type { HostScan } from '../model/port-state.js';
import type { Finding, FindingKind } from './model.js';
import { DEFAULT_SEVERITIES, type ServiceThresholds } from './policy.js';

const DAY_MS = 86_400_000;

export interface ServiceFindingOptions {
  checks: readonly ServiceCheck[];
  expectations: readonly Expectation[];
  hosts: readonly HostScan[];
  thresholds: ServiceThresholds;
  now: Date;
}

/** "TLS 1.2" for "TLSv1.2", "TLS 1.0" for "TLSv1". */
export function formatTlsVersion(version: string): string {
  const number = version.replace(/^TLSv/, '');
  return `TLS ${number.includes('.') ? number : `${number}.0`}`;
}

/** One line of what a check saw, for a finding's detail and the reports. */
export function describeServiceCheck(check: ServiceCheck): string {
  return [check.protocolSeen ? `answers ${check.protocolSeen}` : check.outcome === 'no-answer' ? 'no answer' : 'answers', ...describeEvidence(check)].join('; ');
}

/** The evidence of a check (TLS, certificate, HTTP answer, banner), without what answered. */
function describeEvidence(check: ServiceCheck): string[] {
  const parts: string[] = [];
  if (check.tls) parts.push(describeTls(check.tls));
  if (check.http) parts.push(`HTTP ${check.http.status}${check.http.location ? ` -> ${check.http.location}` : ''}`);
  if (check.banner !== undefined && check.banner !== check.http?.server) parts.push(`"${check.banner}"`);
  else if (check.http?.server !== undefined) parts.push(`Server: ${check.http.server}`);
  return parts;
}

function describeTls(tls: TlsSeen): string {
  const offered = tls.versionsOffered.length > 1 ? ` (accepts ${tls.versionsOffered.map(formatTlsVersion).join(', ')})` : '';
  return `${formatTlsVersion(tls.version)} ${tls.cipher}${offered}${tls.certificate ? `; certificate ${describeCertificate(tls.certificate)}` : ''}`;
}

export function describeCertificate(certificate: CertificateSeen): string {
  return `${certificate.subject || '(no subject)'}, valid ${certificate.notBefore.slice(0, 10)} to ${certificate.notAfter.slice(0, 10)}${certificate.selfSigned ? ', self-signed' : `, issuer ${certificate.issuer}`}`;
}

export function findServiceDeviations(options: ServiceFindingOptions): Finding[] {
  const findings: Finding[] = [];
  for (const check of options.checks) {
    if (check.basis !== 'documented' || check.rowIds.length === 0) continue;
    const expectation = options.expectations.find(
      (candidate) => candidate.transport === 'tcp' && candidate.ref.rowId === check.rowIds[0] && check.port >= candidate.start && check.port <= candidate.end,
    );
    if (!expectation) continue;
    const host = options.hosts.find((candidate) => candidate.address === check.host);
    const observation = host?.observations.find((candidate) => candidate.transport === 'tcp' && candidate.port === check.port);
    const seen = describeServiceCheck(check);
    const documented = `tcp/${check.port} is documented ${expectation.protocol} (${check.check})`;
    const add = (kind: FindingKind, message: string): void => {
      findings.push({
        kind,
        severity: DEFAULT_SEVERITIES[kind],
        host: check.host,
        transport: 'tcp',
        port: check.port,
        expected: expectation.state,
        observed: observation?.state ?? 'open',
        reason: observation?.reason ?? 'syn-ack',
        ref: expectation.ref,
        component: expectation.component,
        message,
        // What was seen, led by our own sentence (which says what answered) when the check did not get what it asked for.
        detail: check.outcome !== 'answered' && check.detail ? [check.detail, ...describeEvidence(check)].join('; ') : seen,
      });
    };
    if (check.outcome === 'mismatch') add('service-mismatch', `${documented}; ${check.detail ?? seen}`);
    if (check.outcome === 'no-answer') add('service-no-answer', `${documented}; the check got no answer: ${check.detail ?? 'nothing came back'}`);
    if (check.tls) judgeTls(check.tls, options, add, check.port);
  }
  return findings;
}

function judgeTls(tls: TlsSeen, options: ServiceFindingOptions, add: (kind: FindingKind, message: string) => void, port: number): void {
  const floor = TLS_VERSIONS.indexOf(options.thresholds.tlsFloor);
  const below = tls.versionsOffered.filter((version) => TLS_VERSIONS.indexOf(version) < floor);
  if (below.length > 0) {
    add('tls-below-floor', `tcp/${port} accepts ${below.map(formatTlsVersion).join(', ')}, below the floor ${formatTlsVersion(options.thresholds.tlsFloor)}`);
  }
  const certificate = tls.certificate;
  if (!certificate) return;
  const now = options.now.getTime();
  const notAfter = Date.parse(certificate.notAfter);
  const notBefore = Date.parse(certificate.notBefore);
  if (notAfter < now) add('certificate-expired', `tcp/${port}: the certificate ${certificate.subject} expired on ${certificate.notAfter.slice(0, 10)}`);
  else if (notBefore > now) add('certificate-expired', `tcp/${port}: the certificate ${certificate.subject} is not valid before ${certificate.notBefore.slice(0, 10)}`);
  else if (notAfter - now < options.thresholds.certificateExpiryDays * DAY_MS) {
    const days = Math.floor((notAfter - now) / DAY_MS);
    add('certificate-expiring', `tcp/${port}: the certificate ${certificate.subject} expires on ${certificate.notAfter.slice(0, 10)}, in ${days} day${days === 1 ? '' : 's'} (policy: ${options.thresholds.certificateExpiryDays})`);
  }
  if (certificate.selfSigned) add('certificate-self-signed', `tcp/${port}: the certificate ${certificate.subject} is self-signed`);
  if (certificate.matchesHost === false) {
    add('certificate-name-mismatch', `tcp/${port}: the certificate names ${certificate.subjectAltNames.join(', ') || certificate.subject || 'nothing'}, not the host as scanned`);
  }
}
