/**
 * What this process may do, computed once: raw sockets need CAP_NET_RAW (root has it); the SYN
 * scan needs the native SYN prober and a raw TCP socket that really opens (a container may
 * grant the capability and still forbid the socket); raw ICMP for UDP needs the optional
 * raw-socket module. The scan type decision and its one-line note live here too (after naabu's
 * pkg/privileges: the rules that downgrade a SYN scan sit in one place).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TcpScanType } from './probes/tcp.js';
import { synUnavailableReason } from './probes/syn-prober.js';

export interface Privileges {
  root: boolean;
  capNetRaw: boolean;
  rawSocketModule: boolean;
  /** Why a SYN scan cannot run here (one phrase); null when it can. */
  synUnavailable: string | null;
}

/** auto: SYN when this process can, else connect (nmap's default as root and as a user). */
export type ScanTypeRequest = 'auto' | TcpScanType;

export interface ScanTypeDecision {
  scanType: TcpScanType;
  /** One line for stderr when the user asked for more than this process can do; null otherwise. */
  note: string | null;
}

const CAP_NET_RAW_BIT = 13n;
let cached: Privileges | undefined;

export function detectPrivileges(): Privileges {
  if (cached) return cached;
  let capNetRaw = false;
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((text) => text.startsWith('CapEff:'));
    if (line) capNetRaw = ((BigInt(`0x${line.split(/\s+/)[1] ?? '0'}`) >> CAP_NET_RAW_BIT) & 1n) === 1n;
  } catch {
    // not Linux
  }
  let rawSocketModule = false;
  try {
    createRequire(import.meta.url).resolve('raw-socket');
    rawSocketModule = true;
  } catch {
    // optional dependency not installed
  }
  cached = { root: process.getuid?.() === 0, capNetRaw, rawSocketModule, synUnavailable: synUnavailableReason() };
  return cached;
}

/**
 * The one place that decides the TCP scan type. The default (auto) is a SYN scan where it can
 * run and a connect scan, without a word, where it cannot (cron mails any output); an explicit
 * --syn that cannot run says why in one line and scans with connect.
 */
export function decideScanType(options: { request: ScanTypeRequest; privileges: Privileges }): ScanTypeDecision {
  const why = options.privileges.synUnavailable;
  if (options.request === 'connect') return { scanType: 'connect', note: null };
  if (why === null) return { scanType: 'syn', note: null };
  if (options.request === 'auto') return { scanType: 'connect', note: null };
  return { scanType: 'connect', note: `--syn: SYN scan not available (${why}); scanning with connect instead` };
}
