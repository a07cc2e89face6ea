/**
 * What a TLS handshake shows: the version and cipher negotiated, the certificate (subject, SANs,
 * issuer, dates, self-signed, whether it names the host), and which lower versions the server
 * still accepts, each tried alone on its own connection.
 */
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import type tls from 'node:tls';
import { toUntrustedLine } from '../../util/untrusted-text.js';
import { TLS_VERSIONS, type CertificateSeen, type TlsVersion } from '../model.js';
import { MAX_BANNER_LENGTH } from './app.js';
import { close, openTls, type Endpoint } from './socket.js';

function isTlsVersion(value: string | null): value is TlsVersion {
  return value !== null && (TLS_VERSIONS as readonly string[]).includes(value);
}

/** X509Certificate prints dates as "Mar  4 12:00:00 2027 GMT". */
function toIsoDate(text: string): string {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? toUntrustedLine(text, 40) : date.toISOString();
}

function oneLine(distinguishedName: string): string {
  // Node gives one RDN per line ("C=DE\nO=Avaya\nCN=ipo"): show them comma-separated.
  return toUntrustedLine(distinguishedName.split('\n').filter((part) => part !== '').join(', '), MAX_BANNER_LENGTH);
}

export function describeCertificate(certificate: X509Certificate, hostName: string | undefined, address: string): CertificateSeen {
  const selfSigned = certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey);
  // The name the user audits is what the certificate must carry: the host name as given, else the address.
  const matchesHost = hostName !== undefined ? certificate.checkHost(hostName) !== undefined : net.isIP(address) ? certificate.checkIP(address) !== undefined : null;
  return {
    subject: oneLine(certificate.subject),
    issuer: oneLine(certificate.issuer),
    subjectAltNames: (certificate.subjectAltName ?? '')
      .split(/,\s*/)
      .filter((name) => name !== '')
      .slice(0, 20)
      .map((name) => toUntrustedLine(name, MAX_BANNER_LENGTH)),
    selfSigned,
    notBefore: toIsoDate(certificate.validFrom),
    notAfter: toIsoDate(certificate.validTo),
    serialNumber: toUntrustedLine(certificate.serialNumber, 80),
    fingerprint256: certificate.fingerprint256,
    matchesHost,
  };
}

export interface Negotiated {
  version: TlsVersion;
  cipher: string;
  certificate?: CertificateSeen;
}

export function describeSession(socket: tls.TLSSocket, hostName: string | undefined, address: string): Negotiated | null {
  const version = socket.getProtocol();
  if (!isTlsVersion(version)) return null;
  const certificate = socket.getPeerX509Certificate();
  return {
    version,
    cipher: toUntrustedLine(socket.getCipher().standardName ?? socket.getCipher().name, 80),
    ...(certificate ? { certificate: describeCertificate(certificate, hostName, address) } : {}),
  };
}

/**
 * The versions below `negotiated` that the server still completes a handshake with: one
 * connection per version, closed as soon as the handshake is done. Returns them and the
 * connections used.
 */
export async function findLowerVersions(
  endpoint: Endpoint,
  negotiated: TlsVersion,
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<{ versions: TlsVersion[]; connections: number }> {
  const lower = TLS_VERSIONS.slice(0, TLS_VERSIONS.indexOf(negotiated));
  const versions: TlsVersion[] = [];
  let connections = 0;
  for (const version of lower) {
    if (options.signal.aborted) break;
    connections += 1;
    const opened = await openTls(endpoint, { minVersion: version, maxVersion: version }, options.timeoutMs, options.signal);
    if (!opened.ok) continue;
    if (opened.socket.getProtocol() === version) versions.push(version);
    close(opened.socket);
  }
  return { versions, connections };
}
