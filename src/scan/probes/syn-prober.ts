/**
 * Half-open TCP probes over raw sockets (native/syn_prober.c): a SYN out; a SYN-ACK (which our
 * own kernel answers with an RST), an RST or an ICMP unreachable back. Answers are validated in
 * the addon against a keyed hash of the 4-tuple carried in the sequence number, so a forged or
 * stray segment never decides a port. Same interface as the connect prober, so the TCP engine
 * keeps one timing, retry and classification path for both scan types.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../version.js';
import { errnoName, type ConnectProber, type ProbeOutcomeHandler } from './connect-prober.js';
import { createNativeBatchProber } from './native-batch.js';

/** Counters of the raw path: `invalid` answers came from the target to our port but failed validation. */
export interface SynProberStats {
  sent: number;
  answers: number;
  invalid: number;
  /** Valid answers for a port with no probe in flight (a duplicate, or late after a timeout). */
  unsolicited: number;
  sourcePort: number;
}

export interface SynProber extends ConnectProber {
  stats(): SynProberStats;
}

interface SynBinding {
  rawSocketError(family: number): number;
  createProber(
    address: string,
    family: number,
    slots: number,
    results: Int32Array,
    commands: Int32Array,
    onResults: (count: number) => void,
    sentAt: Float64Array,
    sentTickets: Int32Array,
    nowMs: number,
  ): unknown;
  submit(prober: unknown, count: number): void;
  drain(prober: unknown): void;
  stats(prober: unknown): SynProberStats;
  destroy(prober: unknown): void;
}

const OUTCOMES: Record<number, string> = { 1: 'syn-ack', 2: 'reset', 3: 'icmp' };

let synBinding: SynBinding | null | undefined;

function loadSynBinding(): SynBinding | null {
  if (synBinding !== undefined) return synBinding;
  synBinding = null;
  if (process.platform === 'linux') {
    try {
      synBinding = createRequire(import.meta.url)(join(PACKAGE_ROOT, 'build', 'Release', 'syn_prober.node')) as SynBinding;
    } catch {
      synBinding = null;
    }
  }
  return synBinding;
}

/** Why a SYN scan cannot run in this process (one phrase), or null when it can. */
export function synUnavailableReason(family: 4 | 6 = 4): string | null {
  const binding = loadSynBinding();
  if (!binding) return 'the native SYN prober is not built (it needs Linux and a C compiler at npm install)';
  const error = binding.rawSocketError(family);
  if (error === 0) return null;
  const name = errnoName(error);
  return name === 'EPERM' || name === 'EACCES' ? 'raw sockets need root or CAP_NET_RAW' : `raw sockets are not available (${name})`;
}

/** Opens the raw sockets; throws (code EPERM, EACCES ...) when it cannot. */
export function createSynProber(options: { address: string; family: 4 | 6; slots: number }, handler: ProbeOutcomeHandler): SynProber {
  const binding = loadSynBinding();
  if (!binding) throw Object.assign(new Error(synUnavailableReason(options.family) ?? 'SYN prober not built'), { code: 'ENOENT' });
  let handle: unknown;
  let last: SynProberStats = { sent: 0, answers: 0, invalid: 0, unsolicited: 0, sourcePort: 0 };
  const prober = createNativeBatchProber(
    {
      kind: 'raw-syn',
      slots: options.slots,
      outcomeName: (code) => OUTCOMES[code] ?? errnoName(-code),
      open({ results, commands, sentAt, sentTickets }, onResults) {
        handle = binding.createProber(options.address, options.family, options.slots, results, commands, onResults, sentAt, sentTickets, performance.now());
        return {
          submit: (count) => binding.submit(handle, count),
          drain: () => binding.drain(handle),
          destroy: () => {
            last = binding.stats(handle);
            binding.destroy(handle);
          },
        };
      },
    },
    handler,
  );
  let closed = false;
  return {
    ...prober,
    close() {
      if (closed) return;
      closed = true;
      prober.close();
    },
    stats: () => (closed ? last : binding.stats(handle)),
  };
}
