/**
 * What this process may do, computed once: raw sockets need CAP_NET_RAW (root has it) and the
 * optional raw-socket module. The scan type decision and its one-line note live here too.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface Privileges {
  root: boolean;
  capNetRaw: boolean;
  rawSocketModule: boolean;
}

export interface ScanTypeDecision {
  scanType: 'connect';
  /** One line for stderr when the user asked for more than this build can do; null otherwise. */
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
  cached = { root: process.getuid?.() === 0, capNetRaw, rawSocketModule };
  return cached;
}

/** The one place that decides the scan type. A SYN (half-open) scan is not in this build yet. */
export function decideScanType(options: { synRequested: boolean; privileges: Privileges }): ScanTypeDecision {
  if (!options.synRequested) return { scanType: 'connect', note: null };
  const why = !options.privileges.capNetRaw
    ? 'it needs root or CAP_NET_RAW'
    : !options.privileges.rawSocketModule
      ? 'the optional raw-socket module is not installed'
      : 'this build has no SYN scanner yet';
  return { scanType: 'connect', note: `--syn: SYN scan not available (${why}); falling back to a connect scan` };
}
