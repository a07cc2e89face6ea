/**
 * Service checks: after the port scan, does the listener on a documented port speak what the
 * matrix row says (HTTPS, SSH, SIP over TLS ...), with what TLS and which certificate?
 * The vocabulary of the stage, fixed in one place. Everything here that came from the network
 * is untrusted text, already sanitised and length-capped by the probe that read it.
 */

/** --checks: none; documented (open ports whose matrix row names a checkable protocol); all (every open TCP port). */
export type ChecksMode = 'none' | 'documented' | 'all';
export const CHECKS_MODES: readonly ChecksMode[] = ['none', 'documented', 'all'];

/** The application protocol a check speaks after the connection (and TLS, when it has TLS). */
export type AppProtocol = 'http' | 'ssh' | 'sip' | 'ldap' | 'smtp' | 'imap' | 'pop3' | 'ftp';

/**
 * What a check expects on a port: an application protocol, TLS or not.
 * tls 'either': the row allows both (HTTP/HTTPS), so neither is a mismatch.
 * app null with tls 'required': TLS whatever runs inside (TCP/TLS, SSL/Voicemail).
 */
export interface CheckSpec {
  /** Short name for reports: https, http, ssh, sips, sip, tls, ldaps ... */
  name: string;
  app: AppProtocol | null;
  tls: 'required' | 'none' | 'either';
}

/** Why this port got this check. */
export type CheckBasis = 'documented' | 'well-known-port' | 'probe';

export type CheckOutcome =
  /** The service answered as expected. */
  | 'answered'
  /** The service answered, but not the documented protocol (plain HTTP on an HTTPS port, no SSH banner ...). */
  | 'mismatch'
  /** No answer the check could read before the timeout, or the connection was closed or refused. */
  | 'no-answer';

export interface CertificateSeen {
  subject: string;
  issuer: string;
  /** subjectAltName entries as "DNS:name" / "IP Address:addr". */
  subjectAltNames: string[];
  /** Issued by its own key (subject = issuer and the signature verifies with its own public key). */
  selfSigned: boolean;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  serialNumber: string;
  /** SHA-256 fingerprint, colon-separated hex: what a diff compares. */
  fingerprint256: string;
  /** Whether the certificate names the host as scanned (target name, or the address); null when the target had nothing to check against. */
  matchesHost: boolean | null;
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export interface TlsSeen {
  /** Negotiated with our widest offer (TLS 1.0 to 1.3): the highest version the server takes. */
  version: TlsVersion;
  cipher: string;
  /** Every version the server completed a handshake with (the negotiated one and each lower one, tried alone). */
  versionsOffered: TlsVersion[];
  certificate?: CertificateSeen;
}

export interface HttpSeen {
  status: number;
  /** The Location header of a redirect. */
  location?: string;
  /** A plain-HTTP redirect to an https:// URL. */
  redirectsToHttps?: boolean;
  server?: string;
}

/** What one check saw on one port. */
export interface ServiceCheck {
  /** The address checked: the host's identity, as in findings. */
  host: string;
  /** The host name the address was resolved from: sent as SNI, and what the certificate must name. */
  name?: string;
  transport: 'tcp';
  port: number;
  /** The check that ran (CheckSpec.name) and why. */
  check: string;
  basis: CheckBasis;
  /** Matrix rows whose protocol asked for this check; empty outside the matrix. */
  rowIds: string[];
  /** The protocol text of the first of those rows, as documented. */
  documentedProtocol?: string;
  outcome: CheckOutcome;
  /** What answered: https, http, ssh, sip, sips, tls, smtp ... ; absent when nothing did. */
  protocolSeen?: string;
  /** Our own sentence on what happened (why a mismatch, why no answer). */
  detail?: string;
  tls?: TlsSeen;
  http?: HttpSeen;
  /** Untrusted first line the service sent: SSH identification, SMTP/IMAP/POP3/FTP greeting, SIP status with Server header, LDAP vendor. */
  banner?: string;
  /** TCP connections this check opened to the port (each is closed at once after the exchange). */
  connections: number;
  durationMs: number;
}

/** The checks section of a result: the mode asked for, the thresholds judged with, what was seen. */
export interface ChecksSection {
  mode: ChecksMode;
  services: ServiceCheck[];
  /** Wall time of the whole stage, ms: what the checks added to the run. */
  durationMs: number;
}
